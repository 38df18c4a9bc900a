// npm run simulate (after the retry storm): a fleet of Node processes behind one circuit breaker
// shared through Redis (redisCircuitBreaker), against a local HTTP server that starts failing,
// beside the same fleet with a breaker per process (circuitBreaker). Real processes, a real
// redis-server, real sockets; test/stress/fleet-breaker.test.ts runs it at CI size.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '../test/fixtures/redis-process.mjs';

const WORKER = fileURLToPath(new URL('../test/fixtures/breaker-worker.mjs', import.meta.url));

/** @param {number} seconds */
const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** @param {import('node:child_process').ChildProcess} child */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * @typedef {[start: number, sent: number, end: number, kind: 'ok' | 'server' | 'open' | 'other', message: string]} Outcome
 * @typedef {{ states: [number, string][], notices: [number, string][], outcomes: Outcome[], exitCode: number | null }} Worker
 */

/**
 * Runs the fleet: `warm` s healthy, `failFor` s of 503s, `settle` s healthy; for 'shared', then
 * Redis stopped (healthy, then failing, then healthy), restarted, and a second outage.
 *
 * @param {{ mode: 'shared' | 'local', processes?: number, busy?: number, interval?: number,
 *   halfOpenAfter?: number, threshold?: number, warm?: number, failFor?: number, settle?: number,
 *   redisDown?: boolean }} options `busy` processes send a request every `interval` ms, the others
 *   every 10 × `interval`; the other times in seconds
 */
export async function runFleet({
  mode,
  processes = 20,
  busy = processes,
  interval = 50,
  halfOpenAfter = 1,
  threshold = 5,
  warm = 3,
  failFor = 4,
  settle = 2,
  redisDown = true,
}) {
  let failing = false;
  const server = createServer((_, response) => {
    response.statusCode = failing ? 503 : 200;
    response.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}/`;
  const redisPort = await freePort();
  let redis = mode === 'shared' ? await startRedis(redisPort) : undefined;
  const key = `fleet-breaker:${Date.now()}`;

  /** @type {Worker[]} */
  const workers = [];
  const children = [];
  const ready = [];
  const done = [];
  for (let i = 0; i < processes; i++) {
    /** @type {Worker} */
    const worker = { states: [], notices: [], outcomes: [], exitCode: null };
    const child = spawn(
      process.execPath,
      [
        WORKER,
        url,
        String(redisPort),
        key,
        mode,
        String(i < busy ? interval : 10 * interval),
        String(halfOpenAfter),
        String(threshold),
      ],
      { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    ready.push(
      new Promise((resolve) =>
        child.on('message', (/** @type {any} */ m) => m.type === 'ready' && resolve(undefined)),
      ),
    );
    done.push(
      new Promise((resolve) => {
        child.on('message', (/** @type {any} */ m) => {
          if (m.type === 'state') worker.states.push([m.t, m.to]);
          else if (m.type === 'redis') worker.notices.push([m.t, m.redis]);
          else if (m.type === 'done') worker.outcomes = m.outcomes;
        });
        child.once('exit', (code) => {
          worker.exitCode = code;
          resolve(undefined);
        });
      }),
    );
    workers.push(worker);
    children.push(child);
  }
  await Promise.all(ready);

  // The fleet's state in Redis, every 10 ms: each opening's end (open_until) and each close.
  /** @type {{ until: number }[]} */
  const openings = [];
  /** @type {number[]} */
  const closes = [];
  const watcher =
    mode === 'shared'
      ? new Redis({ port: redisPort, host: '127.0.0.1', maxRetriesPerRequest: 0 })
      : undefined;
  watcher?.on('error', () => {});
  let last = '';
  const polling = setInterval(() => {
    watcher?.hget(`{${key}}:breaker`, 'open_until').then(
      (value) => {
        if (value !== null && value !== last) openings.push({ until: Number(value) });
        if (value === null && last !== '') closes.push(Date.now());
        last = value ?? '';
      },
      () => {},
    );
  }, 10);

  /** @type {Record<string, number>} */
  const marks = {};
  const at = (/** @type {string} */ name) => /** @type {number} */ (marks[name]);
  const mark = (/** @type {string} */ name) => {
    marks[name] = Date.now();
  };
  // Warm: 20 processes loading their modules keep two cores busy for a few seconds, and requests
  // in flight then fail beyond the threshold (after 1 s of warm-up the shared onset measured 104 to
  // 150, after 3 s 100 every time).
  await pause(warm);
  mark('fail');
  failing = true;
  await pause(failFor);
  mark('recover');
  failing = false;
  await pause(settle);
  if (mode === 'shared' && redisDown && redis !== undefined) {
    mark('redisStop');
    await stop(redis);
    // Long enough for every process to find Redis gone (a read waits up to the timeout, 1 s).
    await pause(2.5);
    mark('downFail');
    failing = true;
    await pause(1);
    mark('downRecover');
    failing = false;
    // Until the processes' own breakers, opened while Redis was down, have probed and closed.
    await pause(Math.max(1.5, halfOpenAfter + 0.5));
    mark('redisStart');
    redis = await startRedis(redisPort);
    // Until every process has a script answered again (ioredis reconnects with a growing delay):
    // a process that cannot reach Redis yet is on its own breaker, probes included.
    const reachable = () =>
      workers.every((worker) =>
        worker.notices.some(([t, notice]) => notice === 'reachable' && t >= at('redisStart')),
      );
    for (let i = 0; i < 200 && !reachable(); i++) await pause(0.05);
    mark('allReachable');
    await pause(0.5);
    mark('fail2');
    failing = true;
    // Long enough for a half-open while it fails.
    await pause(Math.min(failFor, halfOpenAfter + 2));
    mark('recover2');
    failing = false;
    await pause(settle);
  }
  mark('end');
  for (const child of children) child.send('stop');
  await Promise.all(done);
  clearInterval(polling);
  watcher?.disconnect();
  await new Promise((resolve) => server.close(resolve));
  if (redis !== undefined) await stop(redis);

  const all = workers.flatMap((worker) => worker.outcomes);
  const admitted = (/** @type {number} */ from, /** @type {number} */ to) =>
    all.filter(([, sent]) => sent >= from && sent < to).length;
  /** When every process had seen its breaker open, after `from`. */
  const allOpen = (/** @type {number} */ from, /** @type {number} */ to) =>
    Math.max(
      ...workers.map(
        (worker) =>
          worker.states.find(([t, state]) => t >= from && t < to && state === 'open')?.[0] ??
          Number.POSITIVE_INFINITY,
      ),
    );
  /** The outage from `from` to `to`: its figures. */
  const outage = (/** @type {number} */ from, /** @type {number} */ to) => {
    const opened = allOpen(from, to);
    const failedBeforeAllOpen = all.filter(
      ([, sent, , kind]) => kind === 'server' && sent >= from - 1000 && sent <= opened,
    ).length;
    // Each half-open of the shared circuit while the server fails: the requests sent in its first
    // half (the failed probe opens the circuit for halfOpenAfter again).
    const halfOpens = openings
      .filter(({ until }) => until > opened && until < to)
      .map(({ until }) => admitted(until, Math.min(until + (halfOpenAfter * 1000) / 2, to)));
    const whileOpen = openings
      .filter(({ until }) => until > opened && until - halfOpenAfter * 1000 < to)
      .reduce(
        (sum, { until }) => sum + admitted(Math.max(opened, until - halfOpenAfter * 1000), until),
        0,
      );
    const recovered = Math.max(
      ...workers.map(
        (worker) =>
          worker.outcomes.find(([, sent, , kind]) => sent >= to && kind === 'ok')?.[1] ??
          Number.POSITIVE_INFINITY,
      ),
    );
    const closed = closes.find((t) => t >= to);
    return {
      msToAllOpen: opened - from,
      failedBeforeAllOpen,
      admittedAfterAllOpen: admitted(opened, to),
      ...(mode === 'shared' ? { whileOpen, halfOpens } : {}),
      msToClose: closed === undefined ? undefined : closed - to,
      msToAllAdmitting: recovered - to,
      // Processes whose Redis calls failed (and fell back to their own breaker) meanwhile.
      fellBack: workers.filter((worker) =>
        worker.notices.some(([t, notice]) => notice === 'unreachable' && t >= from && t < to),
      ).length,
    };
  };

  const count = (
    /** @type {string} */ kind,
    /** @type {number} */ from = 0,
    /** @type {number} */ to = Number.POSITIVE_INFINITY,
  ) => all.filter(([t, , , k]) => k === kind && t >= from && t < to).length;
  return {
    mode,
    processes,
    threshold,
    halfOpenAfter,
    exitCodes: workers.map((worker) => worker.exitCode),
    calls: all.length,
    other: all.filter(([, , , kind]) => kind === 'other').map(([, , , , message]) => message),
    outage: outage(at('fail'), at('recover')),
    ...(mode === 'shared' && redisDown
      ? {
          redisDown: {
            // A call that started less than the breaker's timeout (1 s) and 0.1 s before the
            // server failed may reach it after: it may wait for a read of Redis up to the timeout.
            failedWhileHealthy:
              count('server', at('redisStop'), at('downFail') - 1100) +
              count('open', at('redisStop'), at('downFail') - 1100),
            server: count('server', at('downFail') - 1100, at('downRecover') + interval),
            refusedByLocalBreakers: count('open', at('downFail'), at('redisStart')),
            saidUnreachable: workers.filter((w) =>
              w.notices.some(([t, n]) => n === 'unreachable' && t >= at('redisStop')),
            ).length,
            msToAllReachable: at('allReachable') - at('redisStart'),
            saidReachable: workers.filter((w) =>
              w.notices.some(([t, n]) => n === 'reachable' && t >= at('redisStart')),
            ).length,
          },
          afterRestart: outage(at('fail2'), at('recover2')),
        }
      : {}),
  };
}

/**
 * One line of figures.
 *
 * @param {string} label
 * @param {Awaited<ReturnType<typeof runFleet>>['outage']} o
 */
function line(label, o) {
  const halfOpens =
    o.halfOpens === undefined ? '' : `, requests per half-open ${o.halfOpens.join(' ')}`;
  const whileOpen = o.whileOpen === undefined ? '' : `, while open ${o.whileOpen}`;
  return `${label.padEnd(28)} failed before all open ${String(o.failedBeforeAllOpen).padStart(4)} (all open in ${o.msToAllOpen} ms), requests after ${o.admittedAfterAllOpen}${whileOpen}${halfOpens}; after the recovery: closed in ${o.msToClose ?? '-'} ms, all admitting in ${o.msToAllAdmitting} ms`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = { processes: 20, interval: 50, halfOpenAfter: 5, threshold: 5 };
  console.log(
    `\nCircuit breakers of a fleet: ${options.processes} processes, consecutive(${options.threshold}), halfOpenAfter ${options.halfOpenAfter} s, against a server that fails\n`,
  );
  for (const [scenario, more] of /** @type {const} */ ([
    ['every process a request each 50 ms; the server fails for 20 s', { failFor: 20, settle: 8 }],
    [
      '5 processes a request each 50 ms, 15 each 500 ms; 10 s',
      { busy: 5, failFor: 10, settle: 7, redisDown: false },
    ],
  ])) {
    console.log(scenario);
    for (const mode of /** @type {const} */ (['local', 'shared'])) {
      const result = await runFleet({ mode, ...options, ...more });
      const crashed = result.exitCodes.filter((code) => code !== 0).length;
      console.log(
        line(
          `  ${mode === 'local' ? '20 local breakers' : 'one shared through Redis'}`,
          result.outage,
        ),
      );
      if (crashed > 0 || result.other.length > 0)
        console.log(`  ${crashed} crashed; other errors: ${result.other.join('; ')}`);
      if (result.redisDown !== undefined && result.afterRestart !== undefined) {
        const d = result.redisDown;
        console.log(
          `  Redis stopped: ${d.failedWhileHealthy} calls failed while the server was healthy; the server failing, its ${d.server} failures and ${d.refusedByLocalBreakers} refusals by local breakers; ${d.saidUnreachable} processes said unreachable, ${d.saidReachable} reachable after the restart (all in ${d.msToAllReachable} ms)`,
        );
        console.log(line('  after the restart', result.afterRestart));
      }
    }
  }
}
