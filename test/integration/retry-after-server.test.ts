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
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';

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

  it('past maxServerWait the call gives up (reason serverWait); cutServerWait caps the wait instead', async () => {
    const onGiveup = vi.fn();
    const refused = await fetchWithRetryAfter(path(429, 1, 'retry-after', '3600'), {
      maxServerWait: 120,
      onGiveup,
    });
    expect(refused.response.status).toBe(429);
    expect(refused.clock.sleeps).toEqual([]);
    expect(onGiveup).toHaveBeenCalledWith(
      expect.objectContaining({ tries: 1, reason: 'serverWait' }),
    );
    const { clock } = await fetchWithRetryAfter(path(429, 1, 'retry-after', '3600'), {
      maxServerWait: 120,
      cutServerWait: true,
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
