// retryFetch beside the runtime's own fetch: with maxTries 1 the server receives the same bytes
// (method, headers, body) and the caller gets the same response or the same error, over every way
// users call fetch — URLs, Requests, own and inherited init fields, and each kind of body.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryFetch } from '../../src/fetch.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let base = '';
const seen: Seen[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    seen.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: Buffer.concat(chunks).toString('latin1'),
    });
    // No answer at all: the caller's abort is all that ends it.
    if (request.url === '/silent') return;
    if (request.url === '/stall') {
      // The headers and part of the body, then nothing.
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('partial');
      return;
    }
    const status = Number(
      new URL(request.url ?? '/', 'http://x').searchParams.get('status') ?? 200,
    );
    response.writeHead(status, { 'content-type': 'text/plain', 'x-echo': request.method ?? '' });
    response.end(`answer ${status}`);
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A multipart body's boundary is random per request: the same bytes but for it. */
function normalize(entry: Seen): Seen {
  const type = String(entry.headers['content-type'] ?? '');
  const boundary = /boundary=(.+)$/.exec(type)?.[1];
  if (boundary === undefined) return entry;
  return {
    ...entry,
    headers: { ...entry.headers, 'content-type': type.replace(boundary, 'BOUNDARY') },
    body: entry.body.replaceAll(boundary, 'BOUNDARY'),
  };
}

/** What the caller gets: the response (status, a header, body) or the error (its class and text). */
async function outcome(call: () => Promise<Response>): Promise<unknown> {
  try {
    const response = await call();
    return {
      status: response.status,
      echo: response.headers.get('x-echo'),
      body: await response.text(),
    };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

const stream = () =>
  new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('streamed '));
      controller.enqueue(new TextEncoder().encode('body'));
      controller.close();
    },
  });
const form = () => {
  const data = new FormData();
  data.set('field', 'value');
  data.set('file', new Blob(['file bytes'], { type: 'text/plain' }), 'a.txt');
  return data;
};

/** Each way of calling fetch: `[name, () => [input, init]]`, made fresh for each of the two calls. */
const calls: [string, () => [RequestInfo | URL, RequestInit | undefined]][] = [
  ['a string URL', () => [`${base}/plain`, undefined]],
  ['a URL object', () => [new URL(`${base}/url?x=1`), undefined]],
  ['a 404', () => [`${base}/missing?status=404`, undefined]],
  ['a 503 (retryable, one try)', () => [`${base}/busy?status=503`, undefined]],
  ['headers as an object', () => [`${base}/h`, { headers: { 'x-a': '1', Accept: 'text/plain' } }]],
  ['headers as pairs', () => [`${base}/h`, { headers: [['x-b', '2']] }]],
  ['a Headers object', () => [`${base}/h`, { headers: new Headers({ 'x-c': '3' }) }]],
  ['a string body', () => [`${base}/s`, { method: 'POST', body: 'text body' }]],
  [
    'URLSearchParams',
    () => [`${base}/u`, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'two' }) }],
  ],
  ['a Blob', () => [`${base}/b`, { method: 'PUT', body: new Blob(['blob'], { type: 'x/y' }) }]],
  ['FormData', () => [`${base}/f`, { method: 'POST', body: form() }]],
  ['an ArrayBuffer', () => [`${base}/a`, { method: 'PUT', body: new Uint8Array([1, 2, 250]) }]],
  [
    'a stream',
    () => [`${base}/st`, { method: 'POST', body: stream(), duplex: 'half' } as RequestInit],
  ],
  [
    'inherited init fields',
    () => [
      `${base}/i`,
      Object.create({ method: 'PUT', headers: { authorization: 'Bearer t' }, body: '{"a":1}' }),
    ],
  ],
  [
    'inherited init fields, sent once (PATCH)',
    () => [`${base}/i2`, Object.create({ method: 'PATCH', body: 'patch' })],
  ],
  [
    'a Request with a body',
    () => [new Request(`${base}/r`, { method: 'PUT', body: 'request body' }), undefined],
  ],
  [
    'a Request, init overriding it',
    () => [
      new Request(`${base}/r2`, { method: 'POST', body: 'old', headers: { 'x-old': '1' } }),
      { method: 'PUT', body: 'new', headers: { 'x-new': '2' } },
    ],
  ],
  ['HEAD', () => [`${base}/head`, { method: 'HEAD' }]],
  ['a bad URL', () => ['http://[::1', undefined]],
  ['a GET with a body', () => [`${base}/g`, { method: 'GET', body: 'no' }]],
];

describe('retryFetch with maxTries 1 is fetch', () => {
  const once = retryFetch({ maxTries: 1, logger: null });

  it.each(calls)('%s: the same request on the wire, the same outcome', async (_, make) => {
    seen.length = 0;
    const plain = await outcome(() => fetch(...make()));
    const plainSeen = seen.splice(0).map(normalize);
    const retried = await outcome(() => once(...make()));
    const retriedSeen = seen.splice(0).map(normalize);
    expect(retried).toEqual(plain);
    expect(retriedSeen).toEqual(plainSeen);
  });

  it('an abort before the call: the same reason, nothing sent', async () => {
    seen.length = 0;
    const reason = new Error('before');
    const plain = await fetch(`${base}/x`, { signal: AbortSignal.abort(reason) }).catch((e) => e);
    const retried = await once(`${base}/x`, { signal: AbortSignal.abort(reason) }).catch((e) => e);
    expect(plain).toBe(reason);
    expect(retried).toBe(reason);
    expect(seen).toEqual([]);
  });

  it('an abort in flight, before the answer: the same reason', async () => {
    for (const call of [fetch, once]) {
      const controller = new AbortController();
      const reason = new Error('in flight');
      const pending = call(`${base}/silent`, { signal: controller.signal }).catch((e) => e);
      setTimeout(() => controller.abort(reason), 50);
      expect(await pending).toBe(reason);
    }
  });

  it('an abort while the body is read: the same rejection', async () => {
    const rejections: unknown[] = [];
    for (const call of [fetch, once]) {
      const controller = new AbortController();
      const response = await call(`${base}/stall`, { signal: controller.signal });
      controller.abort(new Error('while reading'));
      rejections.push(await outcome(() => response.text() as never));
    }
    expect(rejections[1]).toEqual(rejections[0]);
    expect(rejections[0]).toHaveProperty('error');
  });
});
