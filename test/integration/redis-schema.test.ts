// docs/redis-schema.md is the Redis budgets' and fleet breaker's public interface. This test reads that document only —
// its script texts and its calling conventions — to act as a service in another language would,
// sharing one budget with the library; and it checks that the document's scripts are, byte for
// byte, the ones the library sends (each SHA1 cached by Redis once the library has run it).
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consecutive } from '../../src/index.js';
import {
  redisCircuitBreaker,
  redisRatio,
  redisThrottle,
  redisTokenBucket,
} from '../../src/redis.js';
import type { Admission, Granted } from '../../src/types.js';
import { RedisServer, redisWanted } from '../redis-server.js';

const SCHEMA = readFileSync(
  join(import.meta.dirname, '..', '..', 'docs', 'redis-schema.md'),
  'utf8',
);
/** The document's scripts, by their heading. */
const scripts = new Map(
  [...SCHEMA.matchAll(/^### (\S+)\n\n```lua\n([\s\S]*?)\n```$/gm)].map(([, name, text]) => [
    name as string,
    text as string,
  ]),
);
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
const call = () => ({ tries: 1, outcome: new Error('x'), memo: undefined as unknown });

describe.runIf(redisWanted)('the Redis key schema, through its document', () => {
  const server = new RedisServer();
  let client: Redis;
  beforeAll(async () => {
    await server.start();
    client = server.client();
  });
  afterAll(async () => {
    client?.disconnect();
    await server.kill();
  });

  /** Runs a script of the document as a foreign service would: by its text, deadline last. */
  const foreign = (name: string, keys: string[], args: (string | number)[], deadline = true) =>
    client.call(
      'EVAL',
      scripts.get(name) as string,
      keys.length,
      ...keys,
      ...args,
      ...(deadline ? [Date.now() + 5_000] : []),
    );

  it('documents twelve scripts, each byte for byte one the library sends', async () => {
    expect([...scripts.keys()].sort()).toEqual([
      'breaker-probe',
      'breaker-read',
      'breaker-report',
      'breaker-trip',
      'ratio-refund',
      'ratio-request',
      'ratio-retry',
      'throttle-add',
      'throttle-ask',
      'token-refund',
      'token-retry',
      'token-success',
    ]);
    await client.call('SCRIPT', 'FLUSH');
    // Every script once. The withdrawals first, their replies held past the timeout (their text
    // checks a receipt with EXISTS), so that their refunds are sent too.
    const holding = {
      call: async (name: string, ...args: (string | number)[]) => {
        const reply = await client.call(name, ...args);
        if (name === 'EVAL' && String(args[0]).includes("'EXISTS', KEYS[2]")) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return reply;
      },
    };
    const key = `schema:${randomUUID()}`;
    const late = { timeout: 0.05, onError: () => {} };
    await redisTokenBucket(holding, { ...late, key: `${key}:late` }).tryRetry(call());
    await redisRatio(holding, { ...late, key: `${key}:late-r` }).tryRetry(call());
    await new Promise((resolve) => setTimeout(resolve, 300));
    const bucket = redisTokenBucket(client, { key });
    await bucket.tryRetry(call());
    bucket.onSuccess?.(call());
    const throttle = redisThrottle(client, { key: `${key}:t` });
    await throttle.onFailure?.(call());
    await throttle.tryRetry(call());
    const ratio = redisRatio(client, { key: `${key}:r` });
    ratio.onRequest?.(call());
    await ratio.tryRetry(call());
    // The breaker: a read, a trip, the lease at half-open, the probe's report.
    const breaker = redisCircuitBreaker(client, {
      key: `${key}:b`,
      trip: consecutive(1),
      halfOpenAfter: 0.05,
    });
    await ((await breaker.acquire()) as Granted).permit.failure(new Error('x'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await ((await breaker.acquire()) as Granted).permit.success();
    const cached = (await client.call(
      'SCRIPT',
      'EXISTS',
      ...[...scripts.values()].map(sha1),
    )) as number[];
    expect(Object.fromEntries([...scripts.keys()].map((name, i) => [name, cached[i]]))).toEqual(
      Object.fromEntries([...scripts.keys()].map((name) => [name, 1])),
    );
  });

  it('a foreign service and the library share one token bucket', async () => {
    const key = `schema:${randomUUID()}`;
    const library = redisTokenBucket(client, { key, capacity: 100 });
    // The service withdraws 5 (a retry) as the document says; the library sees it, and withdraws.
    expect(await foreign('token-retry', [key, `{${key}}:receipt:go:1`], [100, 5, 10_000])).toBe(1);
    expect(await client.get(key)).toBe('95');
    expect(await library.tryRetry(call())).toBe(true);
    expect(await client.get(key)).toBe('90');
    // The service gave up waiting on its withdrawal: its refund gives it back, once.
    for (let i = 0; i < 2; i++) {
      await foreign('token-refund', [key, `{${key}}:receipt:go:1`], [100, 10_000], false);
    }
    expect(await client.get(key)).toBe('95');
  });

  it('a foreign service’s deposits pay for the library’s retries in one ratio window', async () => {
    const key = `schema:${randomUUID()}`;
    // No reserve: only deposits pay. percentCanRetry 0.5: a deposit of 1000, a withdrawal of 2000.
    const library = redisRatio(client, { key, percentCanRetry: 0.5, minRetriesPerSecond: 0 });
    expect(await library.tryRetry(call())).toBe(false);
    for (let i = 0; i < 2; i++) await foreign('ratio-request', [key], [10_000, 1000, 2000, 0]);
    expect(await client.hget(key, 'oq')).toBe('2');
    expect(await library.tryRetry(call())).toBe(true);
    expect(await library.tryRetry(call())).toBe(false);
    expect(await client.hget(key, 'ox')).toBe('1');
  });

  it('a foreign service and the library share one breaker', async () => {
    const key = `schema:${randomUUID()}`;
    const keys = [`{${key}}:breaker`, `{${key}}:breaker:trips`, `{${key}}:breaker:probe`];
    // quorum 2, window 30 s, probe timeout 60 s, keep 1 h, open times 1 s then 2 s …
    const args = (id: string, count: number | string) => [
      ...[id, count, 2, 30_000, 60_000, 3_600_000],
      ...[1_000, 2_000, 4_000, 8_000, 8_000, 8_000, 8_000, 8_000],
    ];
    const library = redisCircuitBreaker(client, {
      key,
      trip: consecutive(3),
      syncInterval: 0.2,
    });
    expect((await library.acquire()).ok).toBe(true);
    // One of the service's processes tripped after 5 failures: into the window, still closed.
    expect(await foreign('breaker-trip', keys, args('go-1', 5))).toEqual([0, 0, 0]);
    expect(await client.hget(keys[1] as string, 'go-1')).toBe('5');
    // A second one: the quorum of 2 is met, and the fleet opens for 1 s.
    const [code, ms, opened] = (await foreign('breaker-trip', keys, args('go-3', 4))) as number[];
    expect([code, opened]).toEqual([1, 1]);
    expect(ms).toBeGreaterThan(900);
    // The library learns it within syncInterval (0.2 s), and refuses until the open time ends.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const refused = (await library.acquire()) as Admission;
    expect(refused.ok).toBe(false);
    // Half-open: the library takes the lease; the service is refused with the lease's time left.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const probe = (await library.acquire()) as Granted;
    expect(probe.ok).toBe(true);
    const [leased, left] = (await foreign('breaker-probe', keys, args('go-2', 0))) as number[];
    expect(leased).toBe(2);
    expect(left).toBeGreaterThan(59_000);
    // The library's probe succeeds: the service reads the circuit closed.
    await probe.permit.success();
    expect(await foreign('breaker-read', keys, args('go-1', 0))).toEqual([0, 0, 0]);
  });
});
