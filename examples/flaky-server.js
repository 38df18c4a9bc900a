// @ts-check
// A real HTTP server on 127.0.0.1 (a port the OS picks) that fails on purpose, for the examples,
// their tests and the demo.
import { createServer } from 'node:http';

/**
 * Starts a flaky server.
 *
 * - `GET /data/<key>`: answers 503 to the first `failures` requests for each key, then 200 with
 *   `{ key, attempt }`.
 * - `GET /job/<id>`: answers `{ id, state: 'running' }` to the first `pollsUntilDone` polls of
 *   each job, then `{ id, state: 'done' }`.
 * - `GET /down`: always 503.
 * - `GET /stall/<key>`: never answers the first `stalls` requests for each key (counting in
 *   `stalledClosed` each one whose connection the client closed), then 200 with `{ key, attempt }`.
 *
 * @param {{ failures?: number, pollsUntilDone?: number, stalls?: number }} [options]
 * @returns {Promise<{ url: string, hits: Map<string, number>, stalledClosed: () => number, close: () => Promise<void> }>}
 */
export async function startFlakyServer({ failures = 2, pollsUntilDone = 3, stalls = 1 } = {}) {
  /** @type {Map<string, number>} */
  const hits = new Map();
  let stalledClosed = 0;
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    const send = (/** @type {number} */ status, /** @type {unknown} */ body) => {
      response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify(body));
    };
    const [, kind, id] = path.split('/');
    if (kind === 'data') {
      if (count <= failures) send(503, { error: 'Service Unavailable' });
      else send(200, { key: id, attempt: count });
    } else if (kind === 'job') {
      send(200, { id, state: count <= pollsUntilDone ? 'running' : 'done' });
    } else if (kind === 'stall') {
      if (count <= stalls) request.socket.once('close', () => (stalledClosed += 1));
      else send(200, { key: id, attempt: count });
    } else if (kind === 'down') {
      send(503, { error: 'Service Unavailable' });
    } else {
      send(404, { error: 'Not Found' });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits,
    stalledClosed: () => stalledClosed,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
