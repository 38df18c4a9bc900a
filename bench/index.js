// npm run bench: backoff-ts side by side with p-retry, cockatiel, exponential-backoff and
// async-retry, and a bare hand-written loop as the reference, in one run on one machine. Every
// figure is printed with its ratio to the bare loop. Not a test: nothing asserts a time.
import { execFile, fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import * as backoff from '../dist/index.js';
import { libraries, names, peerVersions } from './libraries.js';
import { telemetry } from './telemetry.js';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const only = process.argv.slice(2);
const wanted = (section) => only.length === 0 || only.includes(section);

/**
 * Prints a section's rows, each with its ratio to the bare reference and, where the section has
 * one, to the usual hand-written loop (the second column).
 */
function table(title, unit, rows, digits = 1) {
  const bare = rows.find((row) => row.name === 'bare')?.value;
  const usual = rows.find((row) => row.name === 'usual loop')?.value;
  console.log(`\n${title}`);
  for (const { name, value, extra = '' } of rows) {
    const ratio = bare ? `${(value / bare).toFixed(2)}x` : '';
    const second = usual ? `${(value / usual).toFixed(2)}x` : '';
    const label = peerVersions[name] === undefined ? name : `${name} ${peerVersions[name]}`;
    console.log(
      `  ${label.padEnd(22)} ${value.toFixed(digits).padStart(10)} ${unit.padEnd(6)} ${ratio.padStart(7)} ${second.padStart(7)}  ${extra}`,
    );
  }
}

/** Best of `rounds`, the libraries interleaved within each round so that drift hits all alike. */
async function bestOf(rounds, measure, list = names) {
  const best = new Map();
  for (let round = 0; round < rounds; round++) {
    for (const name of list) {
      const value = await measure(name);
      best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, value));
    }
  }
  return list.map((name) => ({ name, value: best.get(name) }));
}

async function successPath() {
  const N = 1_000_000;
  const target = async (x) => x + 1;
  const wrapped = Object.fromEntries(
    names.map((name) => [
      name,
      name === 'bare' ? target : libraries[name].wrap(target, { tries: 5, wait: 1 }),
    ]),
  );
  // A per-attempt timeout: every attempt sets a deadline and cancels it.
  wrapped['backoff-ts, timeout 10'] = backoff.onException(backoff.expo, Error, {
    maxTries: 5,
    timeout: 10,
  })(target);
  const list = [...names.slice(0, 3), 'backoff-ts, timeout 10', ...names.slice(3)];
  const rows = await bestOf(
    5,
    async (name) => {
      const fn = wrapped[name];
      const start = process.hrtime.bigint();
      let sum = 0;
      for (let i = 0; i < N; i++) sum += await fn(i);
      if (sum === 0) throw new Error('unreachable');
      return Number(process.hrtime.bigint() - start) / N;
    },
    list,
  );
  table(
    '1. Success path: a wrapped async call whose first attempt succeeds (ratios: to a bare await fn(), to the usual loop)',
    'ns',
    rows,
  );

  const syncTarget = (x) => x + 1;
  const syncWrapped = backoff.onExceptionSync(backoff.expo, Error, { maxTries: 5 })(syncTarget);
  const syncRows = [];
  for (const [name, fn] of [
    ['bare', syncTarget],
    ['backoff-ts (Sync)', syncWrapped],
  ]) {
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const start = process.hrtime.bigint();
      let sum = 0;
      for (let i = 0; i < N * 5; i++) sum += fn(i);
      if (sum === 0) throw new Error('unreachable');
      best = Math.min(best, Number(process.hrtime.bigint() - start) / (N * 5));
    }
    syncRows.push({ name, value: best });
  }
  table('   The sync twin against a bare sync call (no peer has a sync API)', 'ns', syncRows);
}

async function retryPath() {
  const failure = new Error('flaky');
  const flaky = (state) => {
    state.calls += 1;
    if (state.calls < 3) throw failure;
    return state.calls;
  };
  const wrapped = Object.fromEntries(
    names.map((name) => [name, libraries[name].wrap(flaky, { tries: 3, wait: 0 })]),
  );
  const rows = await bestOf(3, async (name) => {
    const fn = wrapped[name];
    let calls = 0;
    const start = process.hrtime.bigint();
    const deadline = performance.now() + 500;
    while (calls < 20_000 && (calls < 20 || performance.now() < deadline)) {
      await fn({ calls: 0 });
      calls += 1;
    }
    return Number(process.hrtime.bigint() - start) / calls / 1000;
  });
  table(
    '2. Retry path: a call that fails twice, then succeeds, with zero waits (ratios: to the bare loop, to the usual loop)',
    'µs',
    rows,
    2,
  );
  console.log(
    '   (the peers turn a zero wait into setTimeout(0), about 1 ms in Node; bare and backoff-ts yield once with setImmediate)',
  );
}

async function memory() {
  const measure = async (name, waits) => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--expose-gc',
      here('./memory.js'),
      name,
      waits,
    ]);
    return JSON.parse(stdout).bytesPerRetry;
  };
  for (const waits of ['constant', 'expo']) {
    const rows = [];
    for (const name of names) rows.push({ name, value: await measure(name, waits) });
    table(
      `3. Memory: heap bytes per pending retry, 50,000 calls waiting (after GC), ${waits} waits (ratios: to the bare loop, which holds no error while it waits; to the usual loop, which keeps its last)`,
      'B',
      rows,
      0,
    );
  }
}

async function sharedSignal() {
  const { stdout } = await promisify(execFile)(process.execPath, [here('./signal.js')]);
  const { calls, noSignal, setup, abort } = JSON.parse(stdout);
  const row = (label, value) =>
    console.log(
      `  ${label.padEnd(30)} ${value.toFixed(0).padStart(7)} ms  ${(value / noSignal).toFixed(2).padStart(8)}x`,
    );
  console.log(
    `\n3b. One AbortSignal shared by ${calls.toLocaleString('en')} pending calls (backoff-ts)`,
  );
  row('set up, no signal', noSignal);
  row('set up on one signal', setup);
  row('abort until all have settled', abort);
  row('set up and abort', setup + abort);
}

async function timerAccuracy() {
  const SAMPLES = 40;
  const rows = [];
  for (const name of names) {
    const overshoots = [];
    let failedAt = 0;
    const target = () => {
      if (failedAt === 0) {
        failedAt = performance.now();
        throw new Error('once');
      }
      overshoots.push(performance.now() - failedAt - 20);
      failedAt = 0;
    };
    const fn = libraries[name].wrap(target, { tries: 2, wait: 0.02 });
    for (let i = 0; i < SAMPLES; i++) await fn();
    overshoots.sort((a, b) => a - b);
    const median = overshoots[Math.floor(SAMPLES / 2)];
    rows.push({ name, value: median, extra: `max ${overshoots.at(-1).toFixed(2)} ms` });
  }
  const bare = rows[0].value;
  console.log(
    '\n4. Timer accuracy: overshoot of a 20 ms wait (median; the ratio column is median - bare)',
  );
  for (const { name, value, extra } of rows) {
    console.log(
      `  ${name.padEnd(22)} ${value.toFixed(3).padStart(10)} ms     ${(value - bare >= 0 ? '+' : '') + (value - bare).toFixed(3)} ms  ${extra}`,
    );
  }
}

async function endToEnd() {
  const server = fork(here('./server.js'), [], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) =>
    server.stdout.once('data', (data) => resolve(Number(String(data)))),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const get = (path) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent }, (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 503 ? reject(new Error('503')) : resolve(response.statusCode),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const REQUESTS = 10_000;
  const rows = [];
  try {
    const best = new Map();
    // Best of four rounds, each in a rotated order: no library always runs right after another.
    for (let round = 0; round < 4; round++) {
      for (const name of [...names.slice(round), ...names.slice(0, round)]) {
        await get('/reset');
        const fetchOk = libraries[name].wrap(get, { tries: 6, wait: 0.001, factor: 2 });
        const cpu = process.cpuUsage();
        const start = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: REQUESTS }, () => fetchOk('/')),
        );
        const wall = performance.now() - start;
        const used = process.cpuUsage(cpu);
        const ok = results.filter((r) => r.status === 'fulfilled').length;
        const previous = best.get(name);
        if (!previous || wall < previous.wall)
          best.set(name, { wall, cpu: (used.user + used.system) / 1000, ok });
      }
    }
    for (const name of names) {
      const { wall, cpu, ok } = best.get(name);
      rows.push({ name, value: wall, cpu, extra: `${ok} ok` });
    }
  } finally {
    agent.destroy();
    server.send('stop');
  }
  table(
    `5. End to end: ${REQUESTS.toLocaleString()} requests, 30% answered 503, expo from 1 ms, 6 tries, Promise.allSettled — wall time`,
    'ms',
    rows,
    0,
  );
  table(
    '   CPU time of the client process',
    'ms',
    rows.map(({ name, cpu }) => ({ name, value: cpu })),
    0,
  );
}

async function size() {
  let smallest;
  const bundle = async (contents) => {
    const result = await build({
      stdin: { contents, resolveDir: here('..'), loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    smallest ??= Object.values(result.metafile.outputs)[0].inputs;
    return gzipSync(result.outputFiles[0].contents).length;
  };
  const rows = [
    {
      name: 'backoff-ts: { onException, expo }',
      value: await bundle("export { onException, expo } from './dist/index.js';"),
    },
    { name: 'backoff-ts: everything', value: await bundle("export * from './dist/index.js';") },
    { name: 'p-retry', value: await bundle("export { default } from 'p-retry';") },
    {
      name: 'cockatiel: retry',
      value: await bundle("export { retry, handleAll, ExponentialBackoff } from 'cockatiel';"),
    },
    {
      name: 'exponential-backoff',
      value: await bundle("export { backOff } from 'exponential-backoff';"),
    },
    { name: 'async-retry', value: await bundle("export { default } from 'async-retry';") },
  ];
  console.log('\n6. Size: esbuild bundle, minified and gzipped');
  for (const { name, value } of rows)
    console.log(`  ${name.padEnd(36)} ${String(value).padStart(7)} B`);
  // Why the smallest bundle weighs what it does: what each module adds to it, minified.
  console.log('   { onException, expo }, by module (minified, before gzip):');
  const modules = Object.entries(smallest)
    .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
    .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  for (const [file, { bytesInOutput }] of modules)
    console.log(
      `     ${file.replace('dist/', '').padEnd(33)} ${String(bytesInOutput).padStart(7)} B`,
    );
}

console.log(`backoff-ts benchmark — node ${process.version}, ${process.platform}/${process.arch}`);
if (wanted('success')) await successPath();
if (wanted('retry')) await retryPath();
if (wanted('memory')) await memory();
if (wanted('signal')) await sharedSignal();
if (wanted('timer')) await timerAccuracy();
if (wanted('e2e')) await endToEnd();
if (wanted('size')) await size();
if (wanted('telemetry')) await telemetry(table);
