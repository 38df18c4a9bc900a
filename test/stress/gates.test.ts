// Performance gates: what can be measured deterministically on a shared machine — bytes, object
// counts, bundle size — with thresholds that fail CI on a regression, so the speed bends of
// drivers.ts and loop.ts cannot rot unnoticed. Timings stay in `npm run bench`, never here.
// The figures are those of the built package (npm test builds it first), on the Node that runs CI.

import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Heap bytes per pending retry of 50,000 calls waiting, after GC (bench/memory.js). */
async function bytesPerRetry(library: string, waits: 'constant' | 'expo'): Promise<number> {
  const { stdout } = await run(process.execPath, [
    '--expose-gc',
    `${root}bench/memory.js`,
    library,
    waits,
  ]);
  return (JSON.parse(stdout) as { bytesPerRetry: number }).bytesPerRetry;
}

/** The min+gzip size of a bundle of `contents`, in bytes, as bench section 6 measures it. */
async function bundleSize(contents: string): Promise<number> {
  return gzipSync(await bundle(contents)).length;
}

/** A minified esbuild bundle of `contents`, for the browser or any other platform. */
async function bundle(contents: string): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  return (result.outputFiles[0] as { contents: Uint8Array }).contents;
}

describe('performance gates', () => {
  // Measured on Node 20.20 when the gates were set: 1,226 B (constant) and 1,249 B (expo) against
  // 962 B for a bare loop. The thresholds leave about 5% for V8's layout between patch releases.
  it.each([
    ['constant', 1_290],
    ['expo', 1_310],
  ] as const)(
    'heap per pending retry, %s waits: at most %i bytes',
    async (waits, limit) => {
      const bytes = await bytesPerRetry('backoff-ts', waits);
      expect(bytes).toBeLessThanOrEqual(limit);
      // And not above 1.4x a bare loop holding the same pending retry.
      expect(bytes / (await bytesPerRetry('bare', waits))).toBeLessThanOrEqual(1.4);
    },
    60_000,
  );

  it('the success path allocates one promise more than a bare await fn()', async () => {
    // The built package (a computed specifier: dist does not exist when CI type-checks).
    const built = `${root}dist/index.js`;
    const backoff = (await import(built)) as typeof import('../../src/index.js');
    const target = async (x: number) => x + 1;
    const wrapped = backoff.onException(backoff.expo, Error, { maxTries: 5 })(target);
    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises += 1;
      },
    });
    const count = async (fn: (x: number) => Promise<number>) => {
      await fn(0);
      promises = 0;
      hook.enable();
      for (let i = 0; i < 1_000; i += 1) await fn(i);
      hook.disable();
      return promises / 1_000;
    };
    const bare = await count(target);
    expect(await count(wrapped)).toBe(bare + 1);
  });

  // 7,939 B and 11,203 B when the gates were set (esbuild, minified, gzipped). Then 8,178 B and
  // 11,637 B once the lifecycle's stages, events and listeners had modules of their own (+790 B
  // minified, of which the first bundle sheds 330 B: the async twins leave the blocking sleep out);
  // 8,340 B and 12,009 B with callWith, which every decorated call checks for (+600 B minified,
  // a third of it the three errors' texts); 12,410 B for all with isNetworkError (+860 B minified,
  // mostly its tables of codes and messages), which a bundle that does not use it leaves out; 8,387 B
  // and 12,500 B with the `serverWait` give-up; 8,802 B and 12,920 B with the shared deadline timer
  // (+1,290 B minified: base/deadlines.js), whose per-attempt saving bench section 1 shows; 9,100 B
  // and 13,206 B with the times telemetry messages carry (elapsed on the call's clock, each attempt's
  // duration: +806 B minified in listeners/telemetry.js, mostly property names); 10,472 B and
  // 16,547 B with free failures and the breaker gate, which every loop carries (+4,500 B minified:
  // engine/gate.js 1,556, engine/loop.js +1,537, plan/options.js +1,010, the first attempt's permit
  // in engine/drivers.js +292, which cut a call with a breaker from 1,160 to 450 ns); for all, the
  // built-in breakers and the adapters too. What each module adds: `node bench/index.js size`.
  it.each([
    ["export { onException, expo } from './dist/index.js';", 10_550],
    ["export * from './dist/index.js';", 16_650],
  ])('bundle of %s: at most %i bytes min+gzip', async (contents, limit) => {
    expect(await bundleSize(contents)).toBeLessThanOrEqual(limit);
  });

  // The async twins' default clock has no blocking sleep, so their bundle leaves it out; the
  // blocking twins' bundle has it (the control: the search below can find it).
  it.each([
    ['onException', false],
    ['onPredicate', false],
    ['retryContext', false],
    ['onExceptionSync', true],
    ['retryContextSync', true],
  ] as const)('a bundle of %s holds the blocking sleep: %s', async (name, blocking) => {
    const text = new TextDecoder().decode(
      await bundle(`export { ${name} } from './dist/index.js';`),
    );
    expect(text.includes('Atomics.wait(')).toBe(blocking);
  });
});
