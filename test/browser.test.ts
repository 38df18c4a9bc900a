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
const DIST = join(import.meta.dirname, '..', 'dist');
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

describe.runIf(wanted)('in a real browser', () => {
  let server: Server;
  let browser: Browser;
  let base = '';
  let flakyHits = 0;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const url = request.url ?? '/';
      if (url === '/') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
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
});
