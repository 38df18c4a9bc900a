// @ts-check
// npm run demo: start a local flaky HTTP server, run the complete example against it, and show
// each retry as it happens, then the result.
import { startFlakyServer } from './flaky-server.js';
import { makeRobustFetch } from './robust-fetch.js';

const server = await startFlakyServer({ failures: 3 });
console.log(`Flaky server on ${server.url}: the first 3 requests for each path answer 503.\n`);
const robustFetch = makeRobustFetch({ logger: console });
const started = performance.now();
try {
  const result = await robustFetch(`${server.url}/data/demo`);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(`\nResult after ${server.hits.get('/data/demo')} requests and ${seconds}s:`, result);
} finally {
  await server.close();
}
