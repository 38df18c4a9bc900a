// A fleet on real processes: 20 Node processes send requests with retryFetch to one local HTTP
// server, which fails (503) for 3 s and then recovers. With one redisTokenBucket shared by the
// fleet, the retries the server sees while it fails stay within the budget's bound (500 tokens,
// 5 a retry: 100), where a budget per process (20 × 100) or none let the fleet's retries through;
// once the server recovers, successes refill the shared budget.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer, redisWanted } from '../redis-server.js';

const WORKER = join(import.meta.dirname, '..', 'fixtures', 'fleet-worker.mjs');
const PROCESSES = 20;

describe.runIf(redisWanted)('a fleet of 20 processes against a server that fails for 3 s', () => {
  const redis = new RedisServer();
  let failing = false;
  let phase: 'before' | 'failing' | 'after' = 'before';
  const seen = {
    before: { requests: 0, retries: 0 },
    failing: { requests: 0, retries: 0 },
    after: { requests: 0, retries: 0 },
  };
  const server = createServer((request, response) => {
    const count = seen[phase];
    count.requests += 1;
    if (Number(request.headers['x-retry'] ?? 0) > 0) count.retries += 1;
    response.statusCode = failing ? 503 : 200;
    response.end();
  });
  beforeAll(async () => {
    await redis.start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await redis.kill();
  });

  const figures: Record<string, unknown> = {};
  it.each(['shared', 'local', 'none'] as const)(
    'budget: %s',
    async (mode) => {
      for (const count of Object.values(seen)) Object.assign(count, { requests: 0, retries: 0 });
      [failing, phase] = [false, 'before'];
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const key = `fleet:${mode}:${Date.now()}`;
      const workers: ChildProcess[] = [];
      for (let i = 0; i < PROCESSES; i++) {
        workers.push(
          spawn(process.execPath, [WORKER, url, String(redis.port), key, mode, '11'], {
            stdio: ['ignore', 'ignore', 'inherit'],
          }),
        );
      }
      const exited = Promise.all(
        workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))),
      );
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      // Every process is up once the server hears about 10 requests a second from each.
      while (seen.before.requests < PROCESSES * 15) await pause(50);
      [failing, phase] = [true, 'failing'];
      await pause(3_000);
      [failing, phase] = [false, 'after'];
      await pause(3_000);
      const client = redis.client();
      const tokens = Number((await client.get(key)) ?? 500);
      client.disconnect();
      expect(await exited).toEqual(Array(PROCESSES).fill(0));
      figures[mode] = { ...seen.failing, tokensAfterRecovery: mode === 'shared' ? tokens : '-' };
      console.log(`budget ${mode}, while the server failed: ${JSON.stringify(figures[mode])}`);
      const { requests, retries } = seen.failing;
      if (mode === 'shared') {
        expect(retries).toBeLessThanOrEqual(100); // 500 tokens at 5 a retry, nothing refilled
        expect(tokens).toBeGreaterThanOrEqual(100); // successes refill it after the recovery
      } else {
        // 20 budgets of 100 retries, or none: the fleet's retries pass (up to 3 a first try; how
        // many land in the 3 s depends on the machine's load), far past the shared bound.
        expect(retries).toBeGreaterThan(2 * 100);
        expect(requests - retries).toBeGreaterThan(0);
      }
    },
    120_000,
  );
});
