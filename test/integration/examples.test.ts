// The examples, each run against a real HTTP server on 127.0.0.1, with waits in virtual time
// (a FakeClock) so the suite stays fast; the demo test runs with real time.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeAuditedFetch } from '../../examples/async-handler.js';
import { fetchAll } from '../../examples/concurrent.js';
import { startFlakyServer } from '../../examples/flaky-server.js';
import { makeGetJson } from '../../examples/http-client.js';
import { HttpError } from '../../examples/http-error.js';
import { makeWaitForJob } from '../../examples/poll-job.js';
import * as onRetryFetch from '../../examples/retry-fetch.js';
import { makeRobustFetch } from '../../examples/robust-fetch.js';
import { makeTrackedFetch } from '../../examples/sync-handlers.js';
import { FakeClock } from '../helpers.js';

let server: Awaited<ReturnType<typeof startFlakyServer>>;
beforeEach(async () => {
  server = await startFlakyServer({ failures: 2, pollsUntilDone: 3 });
});
afterEach(async () => {
  await server.close();
});

describe('examples against a real local HTTP server', () => {
  it('http client: retries 503s, then returns the JSON', async () => {
    const clock = new FakeClock();
    const getJson = makeGetJson({ clock, logger: null });
    expect(await getJson(`${server.url}/data/a`)).toEqual({ key: 'a', attempt: 3 });
    expect(server.hits.get('/data/a')).toBe(3);
    expect(clock.sleeps).toHaveLength(2);
  });

  it('http client: gives up at maxTime with the last HttpError', async () => {
    const clock = new FakeClock();
    const getJson = makeGetJson({ clock, logger: null, jitter: null });
    const error = await getJson(`${server.url}/down`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(503);
    // expo waits 1, 2, 4, 8, then the last one clipped: 1 + 2 + 4 + 8 + 15 = 30 s of maxTime.
    expect(clock.sleeps).toEqual([1, 2, 4, 8, 15]);
    expect(server.hits.get('/down')).toBe(6);
  });

  it('http client: a refused connection is a TypeError from fetch, retried then thrown', async () => {
    const closed = await startFlakyServer();
    const url = `${closed.url}/data/x`;
    await closed.close();
    const clock = new FakeClock();
    const error = await makeGetJson({ clock, logger: null, maxTime: 3 })(url).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(clock.sleeps.length).toBeGreaterThan(0);
  });

  it('http client: a stalled request is aborted at its timeout (the server sees its socket close) and retried', async () => {
    const clock = new FakeClock();
    const getJson = makeGetJson({ clock, logger: null, timeout: 0.2 });
    const started = performance.now();
    expect(await getJson(`${server.url}/stall/s`)).toEqual({ key: 's', attempt: 2 });
    expect(performance.now() - started).toBeLessThan(15_000); // the stall never ends
    expect(server.hits.get('/stall/s')).toBe(2);
    // The abort closed the stalled request's connection: the server is not left holding it.
    await expect.poll(() => server.stalledClosed()).toBe(1);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('the complete example: a stalled request times out and is retried too', async () => {
    const lines: string[] = [];
    const robustFetch = makeRobustFetch({
      clock: new FakeClock(),
      log: (line) => lines.push(line),
      logger: null,
      timeout: 0.2,
    });
    expect(await robustFetch(`${server.url}/stall/r`)).toEqual({ key: 'r', attempt: 2 });
    await expect.poll(() => server.stalledClosed()).toBe(1);
    expect(lines).toHaveLength(1);
  });

  it('the patterns on retryFetch: the client, concurrent requests, the complete example', async () => {
    const clock = new FakeClock();
    expect(await onRetryFetch.makeGetJson({ clock, logger: null })(`${server.url}/data/f`)).toEqual(
      {
        key: 'f',
        attempt: 3,
      },
    );
    expect(clock.sleeps).toHaveLength(2);
    const down = await onRetryFetch
      .makeGetJson({ clock: new FakeClock(), logger: null, maxTries: 2 })(`${server.url}/down`)
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ name: 'HttpError', status: 503 });
    const urls = Array.from({ length: 10 }, (_, i) => `${server.url}/data/many-${i}`);
    const settled = await onRetryFetch.fetchAll(urls, { clock: new FakeClock(), logger: null });
    expect(settled.every((result) => result.status === 'fulfilled')).toBe(true);
    const lines: string[] = [];
    const robust = onRetryFetch.makeRobustFetch({
      clock: new FakeClock(),
      logger: null,
      timeout: 0.2,
      log: (line) => lines.push(line),
    });
    expect((await robust(`${server.url}/stall/rf`)).status).toBe(200);
    expect(lines).toEqual([
      expect.stringMatching(/^Async retry 1: wait=\d\.\d\ds after AttemptTimeoutError/),
    ]);
    await expect.poll(() => server.stalledClosed()).toBe(1);
  });

  it('concurrent requests gathered with Promise.allSettled: each retried on its own', async () => {
    const urls = Array.from({ length: 20 }, (_, i) => `${server.url}/data/${i}`);
    urls.push(`${server.url}/down`);
    const results = await fetchAll(urls, { clock: new FakeClock(), logger: null });
    expect(results.slice(0, 20)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({
        status: 'fulfilled',
        value: { key: String(i), attempt: 3 },
      })),
    );
    expect(results[20]?.status).toBe('rejected');
    expect(server.hits.get('/down')).toBe(4);
  });

  it('polling a job with onPredicate + constant', async () => {
    const clock = new FakeClock();
    const waitForJob = makeWaitForJob({ clock, logger: null });
    expect(await waitForJob(`${server.url}/job/7`)).toEqual({ id: '7', state: 'done' });
    expect(clock.sleeps).toEqual([2, 2, 2]);
  });

  it('sync handlers on an async function', async () => {
    const { trackedFetch, stats } = makeTrackedFetch({ clock: new FakeClock(), logger: null });
    await trackedFetch(`${server.url}/data/s`);
    await expect(trackedFetch(`${server.url}/down`)).rejects.toBeInstanceOf(HttpError);
    expect(stats).toMatchObject({ backoffs: 2 + 3, successes: 1, giveups: 1 });
    expect(stats.waits).toHaveLength(5);
  });

  it('an async handler is awaited before each wait', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'backoff-ts-'));
    try {
      const audit = join(dir, 'audit.jsonl');
      const clock = new FakeClock();
      // The clock checks, at each sleep, that the handler's write is already on disk.
      const linesAtSleep: number[] = [];
      clock.sleep = async (seconds: number) => {
        linesAtSleep.push((await readFile(audit, 'utf8')).trim().split('\n').length);
        clock.sleeps.push(seconds);
      };
      const auditedFetch = makeAuditedFetch(audit, { clock, logger: null, jitter: null });
      expect(await auditedFetch(`${server.url}/data/q`)).toEqual({ key: 'q', attempt: 3 });
      expect(linesAtSleep).toEqual([1, 2]);
      const lines = (await readFile(audit, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        { tries: 1, wait: 1, error: '503 Service Unavailable' },
        { tries: 2, wait: 1, error: '503 Service Unavailable' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the complete example: robustFetch logs each async retry with wait and elapsed', async () => {
    const lines: string[] = [];
    const clock = new FakeClock();
    const robustFetch = makeRobustFetch({
      log: (line) => lines.push(line),
      clock,
      logger: null,
      jitter: null,
    });
    expect(await robustFetch(`${server.url}/data/r`)).toEqual({ key: 'r', attempt: 3 });
    expect(lines).toEqual([
      'Async retry 1: wait=1.00s, elapsed=0.00s',
      'Async retry 2: wait=2.00s, elapsed=1.00s',
    ]);
    await expect(robustFetch(`${server.url}/down`)).rejects.toBeInstanceOf(HttpError);
    expect(server.hits.get('/down')).toBe(5);
  });
});

describe('the built package (npm test builds it first)', () => {
  it("loads with require('backoff-ts') on Node 20", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '-e',
      `const backoff = require('backoff-ts');
       const f = backoff.onExceptionSync(backoff.constant, TypeError, { interval: 0, logger: null })(
         (() => { let n = 0; return () => { if (++n < 3) throw new TypeError(); return n; }; })());
       console.log(typeof backoff.onException, typeof backoff.expo, f());`,
    ]);
    expect(stdout.trim()).toBe('function function 3');
  });
});

describe('npm run demo', () => {
  it('shows at least two "Backing off" lines, the async retries, then the result', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['examples/demo.js'], {
      timeout: 30_000,
    });
    const output = stdout + stderr;
    expect(
      output.match(
        /Backing off robustFetch\(\.\.\.\) for \d+\.\ds \(HttpError: 503 Service Unavailable\)/g,
      ),
    ).toHaveLength(3);
    expect(output.match(/Async retry \d: wait=\d+\.\d\ds, elapsed=\d+\.\d\ds/g)).toHaveLength(3);
    expect(stdout).toMatch(/Result after 4 requests and [\d.]+s: \{ key: 'demo', attempt: 4 \}/);
  });
});
