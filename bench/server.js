// The end-to-end benchmark's server, in its own process: answers 503 to 30% of requests (a seeded
// choice, the same sequence for every library) and 200 to the rest. Prints its port.
import { createServer } from 'node:http';

let state = 1;
const random = () => {
  // mulberry32, reseeded by GET /reset
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const server = createServer((request, response) => {
  if (request.url === '/reset') {
    state = 1;
    response.end('reset');
    return;
  }
  const fail = random() < 0.3;
  response.writeHead(fail ? 503 : 200, { 'content-type': 'text/plain' });
  response.end(fail ? 'busy' : 'ok');
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('message', (message) => {
  if (message === 'stop') server.close(() => process.exit(0));
});
