// The built ESM in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// never a downloaded browser), retrying fetch against a local server. Under CI a missing
// Chromium fails the test.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const DIST = join(import.meta.dirname, '..', '..', 'dist');
const wanted = existsSync(CHROMIUM) || process.env.CI !== undefined;

const PAGE = `<!doctype html><script type="module">
import * as backoff from '/dist/index.js';
const lines = [];
const getJson = backoff.onException(backoff.expo, Error, {
  factor: 0.05, maxTries: 5, logger: { info: (m) => lines.push(m), error: (m) => lines.push(m) },
})(async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error('HTTP ' + response.status);
  return response.json();
});
let syncError;
try {
  backoff.onExceptionSync(backoff.constant, Error, { interval: 0.1, logger: null })(() => { throw new Error('x'); })();
} catch (error) { syncError = error.name + ': ' + error.message; }
window.result = getJson('/flaky').then((value) => ({ value, lines, syncError }));
</script>`;

/** backoff-ts/fetch in the page: statuses, a refused connection, a CORS refusal, an abort. */
const FETCH_PAGE = (closed: string, other: string) => `<!doctype html><script type="module">
import { retryFetch } from '/dist/fetch.js';
const waits = [];
const fetchWithRetry = retryFetch({
  fallbackOptions: { factor: 0.01 }, logger: null,
  onBackoff: ({ exception }) => waits.push(exception.name + ': ' + exception.message),
});
const outcome = (promise) => promise.then(
  (response) => ({ status: response.status }),
  (error) => ({ error: error.name + ': ' + error.message }),
);
const run = async () => {
  const flaky = await outcome(fetchWithRetry('/flaky-fetch'));
  const refusedWaits = waits.length;
  const refused = await outcome(fetchWithRetry('${closed}/'));
  const afterRefused = waits.length;
  const cors = await outcome(fetchWithRetry('${other}/no-cors-headers'));
  const afterCors = waits.length;
  const controller = new AbortController();
  const aborted = outcome(fetchWithRetry('/stall', { signal: controller.signal }));
  setTimeout(() => controller.abort(new DOMException('left the page', 'AbortError')), 50);
  return { flaky, refused, cors, aborted: await aborted, waits, refusedWaits, afterRefused, afterCors };
};
window.result = run();
</script>`;

/**
 * retryFetch with one try beside the browser's fetch: each case is called both ways, on paths
 * `/diff/<case>/<plain|retried>`, so the server can compare what each sent.
 */
const DIFF_PAGE = `<!doctype html><script type="module">
import { retryFetch } from '/dist/fetch.js';
const once = retryFetch({ maxTries: 1, logger: null });
const form = () => { const data = new FormData(); data.set('field', 'value'); return data; };
const cases = [
  (p) => [p],
  (p) => [p + '?status=404'],
  (p) => [p + '?status=503'],
  (p) => [p, { headers: { 'x-a': '1' } }],
  (p) => [p, { method: 'POST', body: 'text body' }],
  (p) => [p, { method: 'PUT', body: new URLSearchParams({ a: '1' }) }],
  (p) => [p, { method: 'PUT', body: new Blob(['blob'], { type: 'x/y' }) }],
  (p) => [p, { method: 'POST', body: form() }],
  (p) => [p, Object.create({ method: 'PUT', headers: { 'x-b': '2' }, body: 'inherited' })],
  (p) => [new Request(p, { method: 'PUT', body: 'request body' })],
  (p) => [p, { method: 'POST', duplex: 'half', body: new ReadableStream({
    start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } }) }],
  (p) => [p, { signal: AbortSignal.abort(new DOMException('before', 'AbortError')) }],
  (p) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException('in flight', 'AbortError')), 50);
    return [p + '?silent', { signal: controller.signal }];
  },
];
const outcome = (promise) => promise.then(
  async (response) => ({ status: response.status, body: await response.text() }),
  (error) => ({ error: error.name + ': ' + error.message }),
);
window.result = (async () => {
  const results = [];
  for (const [i, make] of cases.entries()) {
    results.push([
      await outcome(fetch(...make('/diff/' + i + '/plain'))),
      await outcome(once(...make('/diff/' + i + '/retried'))),
    ]);
  }
  return results;
})();
</script>`;

describe.runIf(wanted)('in a real browser', () => {
  let server: Server;
  let browser: Browser;
  let base = '';
  let flakyHits = 0;
  let fetchHits = 0;
  let stallHits = 0;
  let stallClosed = 0;
  let corsHits = 0;
  let closed = '';
  let other = '';
  let otherServer: Server;
  const seenDiff = new Map<string, unknown>();

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const url = request.url ?? '/';
      if (url === '/') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      } else if (url === '/fetch.html') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(FETCH_PAGE(closed, other));
      } else if (url === '/diff.html') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(DIFF_PAGE);
      } else if (url.startsWith('/diff/') && url.endsWith('?silent')) {
        // No answer: only the page's abort ends it.
      } else if (url.startsWith('/diff/')) {
        // What arrived, by case and by way, multipart boundary aside; answered as asked.
        const [, , id, way] = url.split(/[/?]/);
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const type = String(request.headers['content-type'] ?? '');
        const boundary = /boundary=(.+)$/.exec(type)?.[1] ?? '\u0000';
        const { host: _, referer: __, ...headers } = request.headers;
        seenDiff.set(`${id}/${way}`, {
          method: request.method,
          headers: JSON.parse(JSON.stringify(headers).replaceAll(boundary, 'B')),
          body: Buffer.concat(chunks).toString('latin1').replaceAll(boundary, 'B'),
        });
        const status = Number(/status=(\d+)/.exec(url)?.[1] ?? 200);
        response.writeHead(status, { 'content-type': 'text/plain' }).end(`answer ${status}`);
      } else if (url === '/flaky-fetch') {
        fetchHits += 1;
        if (fetchHits <= 2) response.writeHead(503).end();
        else response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (url === '/stall') {
        stallHits += 1;
        response.once('close', () => {
          stallClosed += 1;
        });
      } else if (url === '/flaky') {
        flakyHits += 1;
        if (flakyHits <= 2) response.writeHead(503).end();
        else response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (url.startsWith('/dist/') && !url.includes('..')) {
        const body = await readFile(join(DIST, url.slice('/dist/'.length))).catch(() => undefined);
        if (body === undefined) response.writeHead(404).end();
        else response.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    // Another origin that answers without CORS headers: the browser refuses the answer to the page.
    otherServer = createServer((_, response) => {
      corsHits += 1;
      response.writeHead(200, { 'content-type': 'text/plain' }).end('secret');
    });
    await new Promise<void>((resolve) => otherServer.listen(0, '127.0.0.1', resolve));
    const otherAddress = otherServer.address();
    other = `http://localhost:${typeof otherAddress === 'object' && otherAddress ? otherAddress.port : 0}`;
    // A port nobody listens on: a refused connection.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const probeAddress = probe.address();
    closed = `http://127.0.0.1:${typeof probeAddress === 'object' && probeAddress ? probeAddress.port : 0}`;
    await new Promise((resolve) => probe.close(resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    otherServer?.closeAllConnections();
    await new Promise((resolve) => otherServer?.close(resolve));
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('loads the built ESM, retries fetch through two 503s, and refuses to block the main thread', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(base);
    const result = await page.evaluate(
      () => (window as unknown as { result: Promise<unknown> }).result,
    );
    expect(errors).toEqual([]);
    expect(result).toMatchObject({
      value: { ok: true },
      syncError: expect.stringMatching(/^TypeError: systemClock\.sleepSync cannot block/),
    });
    const { lines } = result as { lines: string[] };
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Backing off <anonymous>\(\.\.\.\) for \d\.\ds \(Error: HTTP 503\)$/);
    expect(flakyHits).toBe(3);
  }, 60_000);

  it('backoff-ts/fetch: statuses and network errors retried, a CORS refusal bounded, an abort never', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${base}/fetch.html`);
    const result = (await page.evaluate(
      () => (window as unknown as { result: Promise<unknown> }).result,
    )) as Record<string, unknown>;
    expect(errors).toEqual([]);
    expect(result.flaky).toEqual({ status: 200 });
    expect(fetchHits).toBe(3);
    // Chromium's network error is "Failed to fetch": classified as one, retried up to maxTries.
    expect(result.refused).toEqual({ error: 'TypeError: Failed to fetch' });
    expect((result.afterRefused as number) - (result.refusedWaits as number)).toBe(3);
    // A CORS refusal is the same TypeError by the Fetch standard's design (a page must not tell
    // it from a network failure): retried like one, and bounded by maxTries.
    expect(result.cors).toEqual({ error: 'TypeError: Failed to fetch' });
    expect((result.afterCors as number) - (result.afterRefused as number)).toBe(3);
    expect(corsHits).toBe(4);
    // The caller's abort rejects at once with its reason, is not retried, and closes the request.
    expect(result.aborted).toEqual({ error: 'AbortError: left the page' });
    expect(stallHits).toBe(1);
    await expect.poll(() => stallClosed).toBe(1);
  }, 60_000);

  it('retryFetch with one try sends what Chromium’s fetch sends, and gives what it gives', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${base}/diff.html`);
    const results = (await page.evaluate(
      () => (window as unknown as { result: Promise<unknown> }).result,
    )) as [unknown, unknown][];
    expect(errors).toEqual([]);
    expect(results).toHaveLength(13);
    for (const [i, [plain, retried]] of results.entries()) {
      expect(retried, `case ${i}`).toEqual(plain);
      expect(seenDiff.get(`${i}/retried`), `case ${i}`).toEqual(seenDiff.get(`${i}/plain`));
    }
    // The first ten reached the server both ways; the aborts ended with their reasons.
    for (let i = 0; i < 10; i++) expect(seenDiff.get(`${i}/plain`), `case ${i}`).toBeDefined();
    expect(results[11]?.[0]).toEqual({ error: 'AbortError: before' });
    expect(results[12]?.[0]).toEqual({ error: 'AbortError: in flight' });
  }, 60_000);
});
