// npm run bench:redis — what one Redis sustains for one shared budget: 1, 4 and 16 client
// processes, each asking `redisTokenBucket.tryRetry` from 16 concurrent loops for 3 s against a
// redis-server started here on a free loopback port. Prints the script calls per second Redis
// served and the latency a retry decision paid (p50, p99), beside a local `tokenBucket()`.
// A worker: node bench/redis-fleet.js --worker PORT KEY SECONDS
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as backoff from 'backoff-ts';
import { redisTokenBucket } from 'backoff-ts/redis';
import { Redis } from 'ioredis';
import { freePort, startRedis } from '../test/fixtures/redis-process.mjs';

const LOOPS = 16;
const call = () => ({ tries: 1, outcome: new Error('x'), memo: undefined });

if (process.argv[2] === '--worker') {
  const [port, key, seconds] = process.argv.slice(3);
  const client = new Redis({ port: Number(port), host: '127.0.0.1' });
  await client.ping();
  const budget = redisTokenBucket(client, { key, capacity: 1e15, timeout: 5 });
  await budget.tryRetry(call()); // the script in Redis's cache
  /** @type {number[]} */
  const latencies = [];
  const until = performance.now() + Number(seconds) * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      await budget.tryRetry(call());
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: LOOPS }, loop));
  process.stdout.write(JSON.stringify(latencies));
  client.disconnect();
} else {
  const port = await freePort();
  const redis = await startRedis(port);
  const probe = new Redis({ port, host: '127.0.0.1' });
  console.log(
    `Redis ${(await probe.info('server')).match(/redis_version:(\S+)/)?.[1]}, Node ${process.version}, ${LOOPS} loops per process`,
  );
  console.log('processes   scripts/s   p50 ms   p99 ms');
  for (const processes of [1, 4, 16]) {
    const key = `fleet:${processes}`;
    const workers = Array.from({ length: processes }, () => run(port, key, 3));
    const latencies = (await Promise.all(workers)).flat().sort((a, b) => a - b);
    const at = (q) => latencies[Math.floor(q * (latencies.length - 1))]?.toFixed(2);
    console.log(
      `${String(processes).padStart(9)} ${String(Math.round(latencies.length / 3)).padStart(11)} ${at(0.5)?.padStart(8)} ${at(0.99)?.padStart(8)}`,
    );
  }
  const local = backoff.tokenBucket({ capacity: 1e15 });
  const started = performance.now();
  const one = call();
  for (let i = 0; i < 1e6; i++) local.tryRetry(one);
  console.log(
    `local tokenBucket(): ${(((performance.now() - started) * 1e3) / 1e6).toFixed(3)} µs a decision, in-process`,
  );
  probe.disconnect();
  redis.kill('SIGKILL');
}

/** Runs a worker process; resolves to its latencies in ms. */
function run(port, key, seconds) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--worker', String(port), key, String(seconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  return new Promise((resolve) => child.once('close', () => resolve(JSON.parse(out))));
}
