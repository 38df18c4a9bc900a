// What the default clock's shared attempt timer does to a process's lifetime: a deadline still
// pending holds the process open, as a timer of its own would; once every deadline is cancelled,
// the native timer left armed does not (a 30 s `timeout` must not keep a finished script alive).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** Runs `body` as an ES module in a fresh Node with `backoff` imported; resolves to its output. */
async function script(body: string): Promise<{ stdout: string; ms: number }> {
  const started = performance.now();
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', `import * as backoff from ${JSON.stringify(built)};\n${body}`],
    // A hang, not a slow machine: the processes that pass end in well under a second of work.
    { timeout: 20_000 },
  );
  return { stdout, ms: performance.now() - started };
}

describe('the shared attempt timer and the process', () => {
  it('a pending deadline holds the process open until it fires', async () => {
    const { stdout } = await script("backoff.systemClock.timer(0.3, () => console.log('fired'));");
    expect(stdout).toBe('fired\n');
  });

  it('a process whose attempts with a 30 s timeout are over exits at once', async () => {
    const { stdout, ms } = await script(`
      const get = backoff.onException(backoff.expo, Error, { timeout: 30, logger: null })(
        async () => 'ok',
      );
      console.log(await get(), await get());
    `);
    expect(stdout).toBe('ok ok\n');
    // Held open, it would end after 30 s (the child is killed at 20 s: an error above).
    expect(ms).toBeLessThan(20_000);
  });

  it('an attempt that never settles still times out: its deadline holds the process open', async () => {
    const { stdout } = await script(`
      const hang = backoff.onException(backoff.expo, Error, { timeout: 0.2, maxTries: 2, logger: null })(
        () => new Promise(() => {}),
      );
      await hang().catch((error) => console.log(error.name, error.tries));
    `);
    expect(stdout).toBe('AttemptTimeoutError 2\n');
  });
});
