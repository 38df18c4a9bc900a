// Server-directed waits against a real HTTP server on 127.0.0.1 that answers 429/503 with each
// Retry-After form; waits run in virtual time.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  fibo,
  fullJitter,
  onException,
  onPredicate,
  randomJitter,
  retryAfter,
  type ServerDirected,
  type WaitGenerator,
} from '../src/index.js';
import { serverWait } from '../src/retry-after.js';
import { VirtualClock } from '../src/testing.js';

let server: Server;
let base: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  // GET /<status>/<times>/<header>?v=<value>: the first <times> requests answer <status> with
  // the header set to the value; later ones answer 200.
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const count = (hits.get(url.pathname + url.search) ?? 0) + 1;
    hits.set(url.pathname + url.search, count);
    const [, status, times, header] = url.pathname.split('/');
    if (count <= Number(times)) {
      const headers: Record<string, string> = { connection: 'close' };
      const value = url.searchParams.get('v');
      if (header && header !== 'none' && value !== null) headers[header] = value;
      response.writeHead(Number(status), headers);
      response.end();
    } else {
      response.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      response.end(`ok after ${count}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const retryable = (response: Response) => response.status === 429 || response.status === 503;
let unique = 0;
const path = (status: number, times: number, header: string, value: string) =>
  `${base}/${status}/${times}/${header}?v=${encodeURIComponent(value)}&n=${++unique}`;

describe('ServerDirected: a wait your own generator says came from the server', () => {
  const serverSays =
    (seconds: number): WaitGenerator =>
    () => ({
      next: (): IteratorResult<number> & ServerDirected => ({
        done: false,
        value: seconds,
        fromServer: true,
      }),
    });

  it('is never jittered (a floor) and never cut to fit maxTime', async () => {
    const clock = new VirtualClock();
    const onGiveup = vi.fn();
    const target = vi.fn(() => {
      throw new TypeError('busy');
    });
    const wrapped = onException(serverSays(3), TypeError, {
      clock,
      logger: null,
      jitter: (_seconds: number) => 0,
      maxTime: 10,
      onGiveup,
    })(target);
    await expect(wrapped()).rejects.toThrow('busy');
    // 3 s, 3 s, 3 s; then the next 3 s would pass maxTime (9 + 3 > 10): give up, not wait 1 s.
    expect(clock.sleeps).toEqual([3, 3, 3]);
    expect(onGiveup.mock.calls[0]?.[0].reason).toBe('maxTime');
  });
});

async function fetchWithRetryAfter(url: string, options: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const get = onPredicate(retryAfter, retryable, { clock, logger: null, ...options })(fetch);
  const response = await get(url);
  return { response, clock };
}

describe('retryAfter against a real server', () => {
  it('Retry-After delta-seconds', async () => {
    const { response, clock } = await fetchWithRetryAfter(path(429, 2, 'retry-after', '3'));
    expect(await response.text()).toBe('ok after 3');
    expect(clock.sleeps).toEqual([3, 3]);
  });

  it('Retry-After as an HTTP-date', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const { response, clock } = await fetchWithRetryAfter(path(503, 1, 'retry-after', date));
    expect(response.status).toBe(200);
    // The date has whole seconds: the wait is 29–30 s from now.
    expect(clock.sleeps[0]).toBeGreaterThan(28);
    expect(clock.sleeps[0]).toBeLessThanOrEqual(30);
  });

  it('an HTTP-date in the past means no wait', async () => {
    const { clock } = await fetchWithRetryAfter(
      path(503, 1, 'retry-after', 'Wed, 21 Oct 2015 07:28:00 GMT'),
    );
    expect(clock.sleeps).toEqual([0]);
  });

  it('retry-after-ms and x-amz-retry-after are milliseconds', async () => {
    expect(
      (await fetchWithRetryAfter(path(429, 1, 'retry-after-ms', '1500'))).clock.sleeps,
    ).toEqual([1.5]);
    expect(
      (await fetchWithRetryAfter(path(503, 1, 'x-amz-retry-after', '250'))).clock.sleeps,
    ).toEqual([0.25]);
  });

  it('the server wait is never jittered downward, whatever the jitter', async () => {
    for (const jitter of [fullJitter, randomJitter, (_seconds: number) => 0]) {
      const { clock } = await fetchWithRetryAfter(path(429, 1, 'retry-after', '60'), { jitter });
      expect(clock.sleeps).toEqual([60]);
    }
  });

  it('maxServerWait caps the server wait', async () => {
    const { clock } = await fetchWithRetryAfter(path(429, 1, 'retry-after', '3600'), {
      maxServerWait: 120,
    });
    expect(clock.sleeps).toEqual([120]);
  });

  it('a server wait past maxTime gives up at once with reason maxTime', async () => {
    const onGiveup = vi.fn();
    const url = path(429, 5, 'retry-after', '90');
    const { response, clock } = await fetchWithRetryAfter(url, { maxTime: 60, onGiveup });
    expect(response.status).toBe(429);
    expect(clock.sleeps).toEqual([]);
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ tries: 1, reason: 'maxTime' }));
  });

  it.each([
    ['garbage', 'soon'],
    ['negative', '-5'],
    ['empty', ''],
    ['number with junk', '5s'],
    ['bad date', 'Mon, 99 Foo 2026 99:99:99 GMT'],
  ])(
    'a malformed header (%s) is ignored: the fallback decides, never NaN',
    async (_name, value) => {
      const { response, clock } = await fetchWithRetryAfter(path(503, 2, 'retry-after', value), {
        jitter: null,
      });
      expect(response.status).toBe(200);
      expect(clock.sleeps).toEqual([1, 2]);
    },
  );

  it('without a header falls back to the chosen generator, jittered as usual', async () => {
    const jitter = vi.fn((v: number) => v / 2);
    const { clock } = await fetchWithRetryAfter(path(503, 4, 'none', ''), {
      fallback: fibo,
      fallbackOptions: { maxValue: 2 },
      jitter,
    });
    expect(clock.sleeps).toEqual([0.5, 0.5, 1, 1]);
  });

  it('onException: reads the headers of an error carrying the response', async () => {
    class HttpError extends Error {
      readonly response: Response;
      constructor(response: Response) {
        super(`HTTP ${response.status}`);
        this.response = response;
      }
    }
    const clock = new VirtualClock();
    const get = onException(retryAfter, HttpError, { clock, logger: null })(async (url: string) => {
      const response = await fetch(url);
      if (!response.ok) throw new HttpError(response);
      return response.text();
    });
    expect(await get(path(429, 2, 'retry-after', '7'))).toBe('ok after 3');
    expect(clock.sleeps).toEqual([7, 7]);
  });
});

describe('serverWait parsing', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  it.each([
    [{ headers: new Headers({ 'Retry-After': '120' }) }, 120],
    [{ headers: { 'Retry-After': '2.5' } }, 2.5],
    [{ headers: { 'RETRY-AFTER-MS': '20' } }, 0.02],
    [{ response: { headers: new Headers({ 'x-amz-retry-after': '1000' }) } }, 1],
    [{ headers: { 'retry-after': 'Sat, 28 Nov 2026 12:01:00 GMT' } }, 60],
    [{ headers: { 'retry-after': 'tomorrow' } }, undefined],
    [{ headers: { 'retry-after': '12abc' } }, undefined],
    [{ headers: { 'retry-after': 5 } }, undefined],
    [{ headers: { 'retry-after-ms': 1500 } }, undefined],
    [{ headers: { 'retry-after': '1.25' } }, 1.25],
    [{ headers: null, response: { headers: { 'retry-after': '4' } } }, 4],
    [{ response: { response: { headers: { 'retry-after': '4' } } } }, undefined],
    [{ headers: { 'retry-after-ms': 'x', 'retry-after': '3' } }, 3],
    [{}, undefined],
    [null, undefined],
    [new Error('no headers'), undefined],
    // A 429's rate-limit reset: delta-seconds, or (X-RateLimit-Reset) a Unix time past 10^9.
    [{ status: 429, headers: { 'ratelimit-reset': '12' } }, 12],
    [{ status: 429, headers: { 'x-ratelimit-reset': '30' } }, 30],
    [{ status: 429, headers: { 'x-ratelimit-reset': String(now / 1000 + 45) } }, 45],
    [{ status: 429, headers: { 'x-ratelimit-reset': String(now / 1000 - 45) } }, 0],
    [{ response: { status: 429, headers: { 'RateLimit-Reset': '7' } } }, 7],
    [{ status: 429, headers: { 'ratelimit-reset': 'soon', 'x-ratelimit-reset': '9' } }, 9],
    [{ status: 429, headers: { 'retry-after': '3', 'ratelimit-reset': '12' } }, 3],
    [{ status: 429, headers: { 'retry-after': 'junk', 'ratelimit-reset': '12' } }, 12],
    // Not on other statuses: a 200 or a 503 may announce its limits without asking for a wait.
    [{ status: 503, headers: { 'ratelimit-reset': '12' } }, undefined],
    [{ headers: { 'ratelimit-reset': '12' } }, undefined],
  ])('%o → %s', (outcome, expected) => {
    expect(serverWait(outcome, now)).toBe(expected);
  });
});

describe('serverWait on what is no response', () => {
  it('ends on a response that refers to itself', () => {
    const cyclic: { response?: unknown } = {};
    cyclic.response = cyclic;
    expect(serverWait(cyclic)).toBeUndefined();
  });
});

describe('retryAfter and maxTime', () => {
  it('a server wait of exactly the time left is taken', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const wrapped = onException(retryAfter, Object, { maxTime: 10, clock, logger: null })(
      async () => {
        calls += 1;
        if (calls === 1) throw { headers: { 'retry-after': '10' } };
        return 'done';
      },
    );
    expect(await wrapped()).toBe('done');
    expect(clock.sleeps).toEqual([10]);
  });
});

describe('retryAfter with raiseOnGiveup: false', () => {
  it('a server wait past maxTime ends the call with undefined', async () => {
    const onGiveup = vi.fn();
    const wrapped = onException(retryAfter, Object, {
      maxTime: 10,
      clock: new VirtualClock(),
      logger: null,
      raiseOnGiveup: false,
      onGiveup,
    })(async () => {
      throw { headers: { 'retry-after': '11' } };
    });
    expect(await wrapped()).toBeUndefined();
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ reason: 'maxTime' }));
  });
});

describe('retryAfter options', () => {
  it('are checked when the decorator is made', () => {
    expect(() => onException(retryAfter, Error, { maxServerWait: -1 })).toThrow(RangeError);
    expect(() => onException(retryAfter, Error, { fallback: 3 as never })).toThrow(/`fallback`/);
    expect(() =>
      onException(retryAfter, Error, { fallback: fibo, fallbackOptions: { factor: 2 } }),
    ).toThrow(/Unknown option `factor`.*fibo/);
    expect(() => onException(retryAfter, Error, { maxServerWit: 5 } as never)).toThrow(
      /Unknown option `maxServerWit`/,
    );
  });
});
