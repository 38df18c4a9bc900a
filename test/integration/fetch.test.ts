// backoff-ts/fetch against real node:http servers started here: statuses, Retry-After in each
// form, resets, stalls, methods, one-shot bodies, the caller's signal, and the sockets on the server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FetchRequest, HttpError, retryFetch } from '../../src/fetch.js';
import {
  AttemptTimeoutError,
  BreakerOpenError,
  consecutive,
  keyedBreakers,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';

type Handler = (request: IncomingMessage, response: ServerResponse, hit: number) => void;

interface TestServer {
  url: string;
  hits: () => number;
  bodies: string[];
  maxOpen: () => number;
  connections: () => number;
  closedWhileStalled: () => number;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Starts a server on a free loopback port whose answers `handle` decides, hit by hit. */
async function serve(handle: Handler): Promise<TestServer> {
  let hits = 0;
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  let closedWhileStalled = 0;
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    hits += 1;
    const hit = hits;
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      bodies.push(body);
      handle(request, response, hit);
    });
    response.once('close', () => {
      if (!response.writableEnded) closedWhileStalled += 1;
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    open += 1;
    maxOpen = Math.max(maxOpen, open);
    sockets.add(socket);
    socket.once('close', () => {
      open -= 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const test: TestServer = {
    url: `http://127.0.0.1:${address.port}`,
    hits: () => hits,
    bodies,
    maxOpen: () => maxOpen,
    connections: () => connections,
    closedWhileStalled: () => closedWhileStalled,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(test);
  return test;
}

const answer = (response: ServerResponse, status: number, body = '', headers = {}) => {
  response.writeHead(status, { 'content-type': 'text/plain', ...headers });
  response.end(body);
};

const quiet = { logger: null } as const;

describe('retryFetch against a real HTTP server', () => {
  it('503 then 200: resolves with the 200, waiting the fallback in between', async () => {
    const server = await serve((_, response, hit) =>
      hit === 1 ? answer(response, 503, 'busy') : answer(response, 200, 'hello'),
    );
    const clock = new VirtualClock();
    const fetchWithRetry = retryFetch({ ...quiet, clock, jitter: null });
    const response = await fetchWithRetry(`${server.url}/a`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
    expect(server.hits()).toBe(2);
    expect(clock.sleeps).toEqual([0.5]);
  });

  it('429: waits what each header form asks, never jittered', async () => {
    const soon = new Date(Date.now() + 20_000).toUTCString();
    const forms: [Record<string, string>, (wait: number) => boolean][] = [
      [{ 'retry-after': '7' }, (wait) => wait === 7],
      [{ 'retry-after': soon }, (wait) => wait > 17 && wait <= 20],
      [{ 'retry-after-ms': '1500' }, (wait) => wait === 1.5],
      [{ 'ratelimit-reset': '12' }, (wait) => wait === 12],
      [
        { 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30) },
        (wait) => wait > 28 && wait <= 30,
      ],
    ];
    for (const [headers, expected] of forms) {
      const server = await serve((_, response, hit) =>
        hit === 1 ? answer(response, 429, '', headers) : answer(response, 200, 'ok'),
      );
      const clock = new VirtualClock();
      const response = await retryFetch({ ...quiet, clock })(server.url);
      expect(response.status).toBe(200);
      expect(clock.sleeps).toHaveLength(1);
      expect(
        expected(clock.sleeps[0] as number),
        `${JSON.stringify(headers)} → ${clock.sleeps[0]}`,
      ).toBe(true);
    }
  });

  it('a server-directed wait past maxServerWait gives up (cut with cutServerWait); past maxTime, the 429 comes back at once', async () => {
    const server = await serve((_, response) =>
      answer(response, 429, 'slow down', { 'retry-after': '3600' }),
    );
    const clock = new VirtualClock();
    const onGiveup = vi.fn();
    const refused = await retryFetch({ ...quiet, clock, maxServerWait: 5, onGiveup })(server.url);
    expect(refused.status).toBe(429);
    expect(clock.sleeps).toEqual([]);
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ reason: 'serverWait' });
    expect(server.hits()).toBe(1);
    const options = { ...quiet, clock, maxServerWait: 5, maxTries: 2, cutServerWait: true };
    const cut = await retryFetch(options)(server.url);
    expect(cut.status).toBe(429);
    expect(clock.sleeps).toEqual([5]);
    const late = await retryFetch({ ...quiet, clock: new VirtualClock(), maxTime: 60 })(server.url);
    expect(late.status).toBe(429);
    expect(await late.text()).toBe('slow down');
  });

  it('a connection reset before the answer is a network error: retried', async () => {
    const server = await serve((request, response, hit) => {
      if (hit === 1) request.socket.destroy();
      else answer(response, 200, 'after reset');
    });
    const response = await retryFetch({ ...quiet, clock: new VirtualClock() })(server.url);
    expect(await response.text()).toBe('after reset');
    expect(server.hits()).toBe(2);
  });

  it('a connection reset mid-response: a 503 cut off mid-body is retried; a 200 is returned as fetch would', async () => {
    const server = await serve((request, response, hit) => {
      if (hit === 1) {
        response.writeHead(503, { 'content-length': '100000' });
        response.write('x'.repeat(1000));
        setTimeout(() => request.socket.destroy(), 10);
      } else if (hit === 2) {
        response.writeHead(200, { 'content-length': '100000' });
        response.write('partial');
        setTimeout(() => request.socket.destroy(), 10);
      } else answer(response, 200, 'whole');
    });
    const fetchWithRetry = retryFetch({ ...quiet, clock: new VirtualClock() });
    // The 503's body is cancelled (its reset is no error of the call); the 200 is the outcome.
    const response = await fetchWithRetry(server.url);
    expect(response.status).toBe(200);
    expect(server.hits()).toBe(2);
    // Its body was cut off: reading it fails as it would with fetch; nothing is read for the caller.
    await expect(response.text()).rejects.toThrow(TypeError);
  });

  it('after network errors only, rejects with the last error', async () => {
    const server = await serve((request) => request.socket.destroy());
    const onBackoff = vi.fn();
    const error = await retryFetch({ ...quiet, clock: new VirtualClock(), maxTries: 3, onBackoff })(
      server.url,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect(server.hits()).toBe(3);
    expect(onBackoff).toHaveBeenCalledTimes(2);
  });

  it('a request that stalls is aborted at its timeout (the server sees the socket close) and retried', async () => {
    const server = await serve((_, response, hit) => {
      if (hit > 1) answer(response, 200, 'fresh');
    });
    const onBackoff = vi.fn();
    const response = await retryFetch({ ...quiet, timeout: 0.2, onBackoff })(server.url);
    expect(await response.text()).toBe('fresh');
    expect(onBackoff.mock.calls[0]?.[0].exception).toBeInstanceOf(AttemptTimeoutError);
    await expect.poll(() => server.closedWhileStalled()).toBe(1);
  });

  it('a POST is not retried; a POST with an Idempotency-Key is', async () => {
    // The first request to each path is answered 503, the next ones 201.
    const seen = new Map<string, number>();
    const server = await serve((request, response) => {
      const count = (seen.get(request.url ?? '') ?? 0) + 1;
      seen.set(request.url ?? '', count);
      if (count === 1) answer(response, 503, 'busy');
      else answer(response, 201, 'made');
    });
    const fetchWithRetry = retryFetch({ ...quiet, clock: new VirtualClock() });
    const once = await fetchWithRetry(`${server.url}/once`, { method: 'POST', body: 'order' });
    expect(once.status).toBe(503);
    expect(server.hits()).toBe(1);
    const strict = retryFetch({ ...quiet, clock: new VirtualClock(), throwHttpErrors: true });
    const refused = await strict(`${server.url}/strict`, { method: 'POST', body: 'order' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ status: 503, notRetried: 'method' });
    expect(server.hits()).toBe(2);
    const keyed = await fetchWithRetry(`${server.url}/keyed`, {
      method: 'POST',
      body: 'order',
      headers: { 'Idempotency-Key': 'order-1' },
    });
    expect(keyed.status).toBe(201);
    expect(server.bodies.slice(-2)).toEqual(['order', 'order']);
    // `methods` widens (or narrows) the set.
    const posting = retryFetch({ ...quiet, clock: new VirtualClock(), methods: ['post'] });
    expect((await posting(`${server.url}/methods`, { method: 'POST', body: 'x' })).status).toBe(
      201,
    );
  });
  it('a stream body is sent once, whole, and never again', async () => {
    const server = await serve((_, response) => answer(response, 503, 'busy'));
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('chunk-1;'));
        controller.enqueue(new TextEncoder().encode('chunk-2'));
        controller.close();
      },
    });
    const response = await retryFetch({ ...quiet, clock: new VirtualClock() })(server.url, {
      method: 'PUT',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(503);
    expect(server.hits()).toBe(1);
    expect(server.bodies).toEqual(['chunk-1;chunk-2']);
  });

  it('a Request with a body is replayed whole on each attempt', async () => {
    const server = await serve((_, response, hit) =>
      hit === 1 ? answer(response, 503) : answer(response, 200, 'stored'),
    );
    const request = new Request(server.url, { method: 'PUT', body: 'payload' });
    const response = await retryFetch({ ...quiet, clock: new VirtualClock() })(request);
    expect(await response.text()).toBe('stored');
    expect(server.bodies).toEqual(['payload', 'payload']);
  });

  it('giving up on statuses resolves with the last response, its body unread', async () => {
    const server = await serve((_, response, hit) => answer(response, 502, `gateway ${hit}`));
    const response = await retryFetch({ ...quiet, clock: new VirtualClock(), maxTries: 3 })(
      server.url,
    );
    expect(response.status).toBe(502);
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe('gateway 3');
  });

  it('throwHttpErrors: rejects with an HttpError carrying the response, for a 404 at once', async () => {
    const server = await serve((request, response) =>
      request.url === '/missing' ? answer(response, 404, 'no') : answer(response, 500, 'boom'),
    );
    const strict = retryFetch({
      ...quiet,
      clock: new VirtualClock(),
      throwHttpErrors: true,
      maxTries: 2,
    });
    const missing = await strict(`${server.url}/missing`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HttpError);
    expect(await (missing as HttpError).response.text()).toBe('no');
    expect(server.hits()).toBe(1);
    const failing = await strict(`${server.url}/boom`).catch((e: unknown) => e);
    expect(failing).toMatchObject({ name: 'HttpError', status: 500, notRetried: undefined });
    expect(server.hits()).toBe(3);
  });

  it('the caller’s signal ends a wait at once and is never retried', async () => {
    const server = await serve((_, response) => answer(response, 503));
    const controller = new AbortController();
    // A real wait of a minute (system clock): the abort must end it at once.
    const started = performance.now();
    const pending = retryFetch({ ...quiet, jitter: null, fallbackOptions: { factor: 60 } })(
      server.url,
      { signal: controller.signal },
    ).catch((error: unknown) => error);
    await expect.poll(() => server.hits()).toBe(1);
    controller.abort(new Error('user left'));
    expect(await pending).toHaveProperty('message', 'user left');
    expect(performance.now() - started).toBeLessThan(10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.hits()).toBe(1);
  });

  it('the caller’s signal aborts the request in flight (the server sees it close), not retried', async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    const pending = retryFetch({ ...quiet })(server.url, { signal: controller.signal }).catch(
      (error: unknown) => error,
    );
    await expect.poll(() => server.hits()).toBe(1);
    controller.abort(new Error('cancelled'));
    expect(await pending).toHaveProperty('message', 'cancelled');
    await expect.poll(() => server.closedWhileStalled()).toBe(1);
    expect(server.hits()).toBe(1);
  });

  it('1,000 retried requests: every discarded body is cancelled, so sockets do not pile up', async () => {
    const server = await serve((request, response) => {
      const [, , id] = (request.url ?? '').split('/');
      const attempt = (seen.get(id as string) ?? 0) + 1;
      seen.set(id as string, attempt);
      // A body past what is drained, that fetch would hold its socket for until it is cancelled.
      if (attempt === 1) answer(response, 503, 'x'.repeat(512 * 1024));
      else answer(response, 200, 'ok');
    });
    const seen = new Map<string, number>();
    const fetchWithRetry = retryFetch({ ...quiet, clock: new VirtualClock() });
    for (let batch = 0; batch < 1_000; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const response = await fetchWithRetry(`${server.url}/item/${batch + i}`);
          expect(await response.text()).toBe('ok');
        }),
      );
    }
    expect(server.hits()).toBe(2_000);
    // A cancelled body frees its socket (undici closes it: unread data cannot be skipped), so open
    // sockets stay near the 20 requests in flight instead of one held per discarded response.
    expect(server.maxOpen()).toBeLessThanOrEqual(40);
  }, 60_000);

  it('handlers see the request (method, URL) and each attempt’s response or error', async () => {
    const server = await serve((_, response, hit) =>
      hit === 1 ? answer(response, 503, 'busy') : answer(response, 200),
    );
    const seen: unknown[] = [];
    await retryFetch({
      ...quiet,
      clock: new VirtualClock(),
      onBackoff: ({ args, exception }) => {
        const [request] = args as [{ method: string; url: string }];
        seen.push([request.method, request.url, (exception as HttpError).response.status]);
      },
    })(`${server.url}/users`, { method: 'delete' });
    expect(seen).toEqual([['DELETE', `${server.url}/users`, 503]]);
  });

  it('calls the given fetch; bad options are refused by name', async () => {
    const given = vi.fn(async () => new Response('stub'));
    expect(
      await (await retryFetch({ fetch: given as typeof fetch })('http://x.invalid/')).text(),
    ).toBe('stub');
    expect(given).toHaveBeenCalledTimes(1);
    expect(() => retryFetch({ statuses: [42] })).toThrow(/`statuses`/);
    expect(() => retryFetch({ methods: 'GET' as never })).toThrow(/`methods`/);
    expect(() => retryFetch({ fetch: 'fetch' as never })).toThrow(/`fetch`/);
    expect(() => retryFetch({ maxTries: 0 })).toThrow(/`maxTries`/);
    expect(() => retryFetch({ onBackoff: 5 as never })).toThrow(/`onBackoff`/);
    expect(() => retryFetch({ signal: {} as AbortSignal })).toThrow(
      'Expected `signal` to be an AbortSignal, got an object',
    );
  });
});

describe('retryFetch is the same request as fetch', () => {
  /** A server that sends the headers of a 200 and part of its body, then stalls. */
  const stallingBody = () =>
    serve((_, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('partial');
    });

  it('the caller’s signal governs the response’s body too, as fetch’s does', async () => {
    const server = await stallingBody();
    for (const [name, call] of [
      ['fetch', fetch],
      ['retryFetch', retryFetch(quiet)],
      ['retryFetch with a timeout', retryFetch({ ...quiet, timeout: 30 })],
    ] as const) {
      const controller = new AbortController();
      const response = await call(server.url, { signal: controller.signal });
      expect(response.status, name).toBe(200);
      const reason = new Error(`stop ${name}`);
      setTimeout(() => controller.abort(reason), 100);
      await expect(response.text(), name).rejects.toBe(reason);
    }
    await expect.poll(() => server.closedWhileStalled()).toBe(3);
  });

  it('a Request’s own signal ends the call, as fetch’s does; init.signal wins over it', async () => {
    const server = await serve(() => {});
    const controller = new AbortController();
    const pending = retryFetch({ ...quiet, timeout: 1 })(
      new Request(server.url, { signal: controller.signal }),
    ).catch((error: unknown) => error);
    await expect.poll(() => server.hits()).toBe(1);
    const reason = new Error('request aborted');
    const abortedAt = performance.now();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    // The wrong behaviour went on for 3 more timeouts of 1 s, and 3 more requests.
    expect(performance.now() - abortedAt).toBeLessThan(2_500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.hits()).toBe(1);
    // init.signal: null drops the Request's signal, as with fetch: an aborted one is then no abort.
    const answering = await serve((_, response) => answer(response, 200, 'ok'));
    const aborted = new Request(answering.url, { signal: AbortSignal.abort(new Error('old')) });
    await expect(fetch(aborted, { signal: null })).resolves.toHaveProperty('status', 200);
    await expect(retryFetch(quiet)(aborted, { signal: null })).resolves.toHaveProperty(
      'status',
      200,
    );
  });

  it('a request sent once still gets its timeout, and its handlers', async () => {
    const server = await serve(() => {});
    const onGiveup = vi.fn();
    const error = await retryFetch({ ...quiet, timeout: 0.3, onGiveup })(server.url, {
      method: 'POST',
      body: 'order',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttemptTimeoutError);
    expect(onGiveup).toHaveBeenCalledTimes(1);
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ tries: 1, reason: 'maxTries' });
    expect(server.hits()).toBe(1);
    await expect.poll(() => server.closedWhileStalled()).toBe(1);
  });

  it('maxTries: undefined is as if left out: 4 tries, not unbounded', async () => {
    const server = await serve((_, response) => answer(response, 503));
    const response = await retryFetch({ ...quiet, clock: new VirtualClock(), maxTries: undefined })(
      server.url,
    );
    expect(response.status).toBe(503);
    expect(server.hits()).toBe(4);
  });

  it('inherited init fields are sent, as fetch sends them', async () => {
    const received: unknown[] = [];
    const server = await serve((request, response) => {
      received.push([request.method, request.headers.authorization]);
      answer(response, 200);
    });
    const init = () =>
      Object.create({
        method: 'PUT',
        headers: { authorization: 'Bearer t' },
        body: '{"a":1}',
      }) as RequestInit;
    await fetch(server.url, init());
    await retryFetch(quiet)(server.url, init());
    expect(received).toEqual([
      ['PUT', 'Bearer t'],
      ['PUT', 'Bearer t'],
    ]);
    expect(server.bodies).toEqual(['{"a":1}', '{"a":1}']);
  });

  it('a discarded body of up to 256 KiB is drained during the wait: one connection serves every attempt', async () => {
    for (const [size, connections] of [
      [64 * 1024, 1],
      [256 * 1024, 1],
      // Past the bound, cancelled: a connection each.
      [1024 * 1024, 4],
    ] as const) {
      const server = await serve((_, response) => answer(response, 503, 'x'.repeat(size)));
      // Waits of 0.2, 0.4 and 0.8 s: time for a drain even on a busy machine.
      const response = await retryFetch({
        ...quiet,
        jitter: null,
        fallbackOptions: { factor: 0.2 },
      })(server.url);
      expect(response.status).toBe(503);
      await response.arrayBuffer();
      expect(server.hits()).toBe(4);
      expect(server.connections(), `${size} B`).toBe(connections);
    }
  });

  it('x-should-retry: the server’s word wins over the status, on a response that is not ok', async () => {
    const cases = [
      // [the first answer's status and header, the hits, the status returned]
      [503, 'false', 1, 503],
      [400, 'true', 2, 200],
      [503, undefined, 2, 200],
    ] as const;
    for (const [status, should, hits, returned] of cases) {
      const server = await serve((_, response, hit) =>
        hit === 1
          ? answer(response, status, 'no', should === undefined ? {} : { 'x-should-retry': should })
          : answer(response, 200, 'ok'),
      );
      const response = await retryFetch({ ...quiet, clock: new VirtualClock() })(server.url);
      expect([server.hits(), response.status], `${status} ${should}`).toEqual([hits, returned]);
    }
    // A 200 that says true is a success all the same.
    const fine = await serve((_, response) =>
      answer(response, 200, 'ok', { 'x-should-retry': 'true' }),
    );
    expect((await retryFetch(quiet)(fine.url)).status).toBe(200);
    expect(fine.hits()).toBe(1);
  });

  it('retryCountHeader tells the server how many retries came before; idempotencyKey makes a POST safe', async () => {
    const received: [string | undefined, string | undefined][] = [];
    const server = await serve((request, response, hit) => {
      received.push([
        request.headers['x-retry-count'] as string | undefined,
        request.headers['idempotency-key'] as string | undefined,
      ]);
      if (hit < 3) answer(response, 503);
      else answer(response, 201, 'made');
    });
    const fetchWithRetry = retryFetch({
      ...quiet,
      clock: new VirtualClock(),
      retryCountHeader: 'X-Retry-Count',
      idempotencyKey: true,
    });
    const made = await fetchWithRetry(server.url, {
      method: 'POST',
      body: 'order',
      headers: { 'content-type': 'text/plain' },
    });
    expect(made.status).toBe(201);
    expect(received.map(([count]) => count)).toEqual(['0', '1', '2']);
    const keys = new Set(received.map(([, key]) => key));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(server.bodies).toEqual(['order', 'order', 'order']);
    // The caller's own key is kept; a GET gets none; a function makes the key.
    received.length = 0;
    const mine = retryFetch({ ...quiet, clock: new VirtualClock(), idempotencyKey: () => 'k-1' });
    await mine(`${server.url}/own`, {
      method: 'POST',
      body: 'x',
      headers: { 'Idempotency-Key': 'given' },
    });
    await mine(`${server.url}/get`);
    await mine(`${server.url}/made`, { method: 'PATCH', body: 'x' });
    expect(received.map(([, key]) => key)).toEqual(['given', undefined, 'k-1']);
    await expect(
      retryFetch({ ...quiet, idempotencyKey: () => '' })(server.url, { method: 'POST' }),
    ).rejects.toThrow('Expected `idempotencyKey()` to be a non-empty string, got ""');
    expect(() => retryFetch({ idempotencyKey: 'yes' as never })).toThrow(/`idempotencyKey`/);
    expect(() => retryFetch({ retryCountHeader: 1 as never })).toThrow(/`retryCountHeader`/);
    expect(() => retryFetch({ raiseOnGiveup: false } as never)).toThrow(
      /`raiseOnGiveup` is not an option of retryFetch/,
    );
  });

  it('signal in the options ends every call; with a request’s own, either does', async () => {
    const server = await serve((_, response) => answer(response, 503));
    const controller = new AbortController();
    const fetchWithRetry = retryFetch({
      ...quiet,
      signal: controller.signal,
      fallbackOptions: { factor: 60 },
    });
    const plain = fetchWithRetry(server.url).catch((error: unknown) => error);
    const own = new AbortController();
    const both = fetchWithRetry(server.url, { signal: own.signal }).catch(
      (error: unknown) => error,
    );
    await expect.poll(() => server.hits()).toBe(2);
    const mine = new Error('mine');
    own.abort(mine);
    expect(await both).toBe(mine);
    const everyone = new Error('everyone');
    controller.abort(everyone);
    expect(await plain).toBe(everyone);
    expect(server.hits()).toBe(2);
  });
});

describe('retryFetch with free failures and a breaker per origin', () => {
  it('429s do not use up a try when free says so; they wait the server’s Retry-After', async () => {
    const statuses = [429, 429, 429, 503, 200];
    const server = await serve((_, response, hit) =>
      answer(response, statuses[hit - 1] ?? 200, 'x', hit <= 3 ? { 'retry-after': '2' } : {}),
    );
    const clock = new VirtualClock();
    const fetchWithRetry = retryFetch({
      ...quiet,
      clock,
      jitter: null,
      maxTries: 2,
      free: ({ exception }) => exception instanceof HttpError && exception.status === 429,
    });
    const response = await fetchWithRetry(`${server.url}/limited`);
    expect(response.status).toBe(200);
    expect(server.hits()).toBe(5);
    expect(clock.sleeps).toEqual([2, 2, 2, 0.5]);
  });

  it('an open breaker refuses without sending: the down origin is not hit, the other is', async () => {
    const down = await serve((_, response) => answer(response, 503, 'down'));
    const up = await serve((_, response) => answer(response, 200, 'up'));
    const clock = new VirtualClock();
    const breakers = keyedBreakers({ trip: consecutive(3), clock });
    // details.args[0] of a retryFetch call is its { method, url }.
    const fetchWithRetry = retryFetch({
      ...quiet,
      clock,
      maxTries: 3,
      maxTime: 2,
      breaker: ({ args }) => breakers.get(new URL((args[0] as FetchRequest).url).origin),
    });
    const failed = await fetchWithRetry(`${down.url}/a`); // the last answer, as fetch gives it
    expect(failed.status).toBe(503);
    expect(down.hits()).toBe(3);
    expect(breakers.get(down.url).state()).toBe('open');
    // Open: refused at once (its 5 s do not fit maxTime 2), with nothing sent; like a network
    // error, a refusal rejects.
    const refused = await fetchWithRetry(`${down.url}/b`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BreakerOpenError);
    expect(refused).toMatchObject({ key: down.url, retryAfter: 5 });
    expect(down.hits()).toBe(3);
    const response = await fetchWithRetry(new Request(`${up.url}/c`));
    expect(await response.text()).toBe('up');
    expect(breakers.keys()).toEqual([down.url, up.url]);
  });
});
