// Budgets kept in a real redis-server (Debian's package): started on a free loopback port here.
import { execFile } from 'node:child_process';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  constant,
  onException,
  onExceptionSync,
  type RetryBudget,
  ratio,
  throttle,
  tokenBucket,
} from '../../src/index.js';
import { redisRatio, redisThrottle, redisTokenBucket } from '../../src/redis.js';
import { seededRandom } from '../../src/testing.js';
import { freePort, RedisServer, redisWanted } from '../redis-server.js';

const WORKER = join(import.meta.dirname, '..', 'fixtures', 'redis-worker.mjs');

/** A TCP proxy to a local port that holds every reply `delayMs` before passing it on. */
async function delayingProxy(port: number, delayMs: number) {
  const sockets = new Set<Socket>();
  const proxy = createServer((downstream) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(downstream).add(upstream);
    downstream.pipe(upstream);
    upstream.on('data', (chunk) => {
      setTimeout(() => downstream.writable && downstream.write(chunk), delayMs);
    });
    const end = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
const call = (outcome: unknown = new Error('x')) => ({
  tries: 1,
  outcome,
  memo: undefined as unknown,
});

describe.runIf(redisWanted)('budgets in Redis', () => {
  const server = new RedisServer();
  let client: Redis;
  let n = 0;
  const key = () => `test:${process.pid}:${++n}`;

  beforeAll(async () => {
    await server.start();
    client = server.client();
  });
  afterAll(async () => {
    client?.disconnect();
    await server.kill();
  });

  it('a sync twin refuses a Redis budget when the decorator is made: no call runs, nothing is withdrawn', async () => {
    const k = key();
    const budget = redisThrottle(client, { key: k, maxTokens: 10 });
    expect(() => onExceptionSync(constant, Error, { budget })).toThrow(/use the async twin/);
    expect(await client.get(k)).toBe(null);
  });

  it('full precision: Redis and the local budget agree where 14 digits would not', async () => {
    const options = { key: key(), capacity: 0.3, retryCost: 0.1 };
    const local = tokenBucket(options);
    const shared = redisTokenBucket(client, options);
    const granted: unknown[][] = [];
    for (let i = 0; i < 3; i++)
      granted.push([local.tryRetry(call()), await shared.tryRetry(call())]);
    expect(granted).toEqual([
      [true, true],
      [true, true],
      [false, false],
    ]);
    expect(Number(await client.get(options.key))).toBe(local.state().tokens);
    const throttleOptions = { key: key(), maxTokens: 10, tokenRatio: 0.2 };
    const localThrottle = throttle(throttleOptions);
    const sharedThrottle = redisThrottle(client, throttleOptions);
    for (let i = 0; i < 6; i++) {
      localThrottle.onFailure?.(call());
      await sharedThrottle.onFailure?.(call());
    }
    for (let i = 0; i < 5; i++) {
      localThrottle.onSuccess?.(call());
      sharedThrottle.onSuccess?.(call());
    }
    expect(Number(await client.get(throttleOptions.key))).toBe(localThrottle.state().tokens);
  });

  it('ratio: the same window and integer arithmetic as the local one', async () => {
    const options = { key: key(), ttl: 10, minRetriesPerSecond: 1, percentCanRetry: 0.3 };
    const errors: unknown[] = [];
    const local = ratio(options);
    // Closed, and errors recorded: a failing script must not hide behind the local fallback.
    const shared = redisRatio(client, {
      ...options,
      onRedisError: 'closed',
      onError: (error) => errors.push(error),
    });
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      if (random() < 0.5) {
        local.onRequest?.(call());
        await shared.onRequest?.(call());
      } else {
        expect([i, await shared.tryRetry(call())]).toEqual([i, local.tryRetry(call())]);
      }
    }
    expect(errors).toEqual([]);
    expect(await client.hget(options.key, 'next')).not.toBe(null);
  });

  it('Redis down at the start: calls refused in closed mode withdraw nothing once it is back', async () => {
    const late = new RedisServer();
    late.port = await freePort();
    // ioredis's default offline queue holds the commands until the server is up, then sends them.
    const queued = late.client({ retryStrategy: () => 20 });
    const k = key();
    const budget = redisTokenBucket(queued, { key: k, timeout: 0.05, onRedisError: 'closed' });
    const granted = await Promise.all(Array.from({ length: 50 }, () => budget.tryRetry(call())));
    expect(granted.every((g) => g === false)).toBe(true);
    await late.start();
    try {
      await queued.ping(); // the offline queue has been flushed: every held script ran by now
      expect(await queued.get(k)).toBe(null);
      // And the budget works once Redis is back.
      expect(await budget.tryRetry(call())).toBe(true);
      expect(await queued.get(k)).toBe('495');
    } finally {
      queued.disconnect();
      await late.kill();
    }
  });

  it('CLIENT PAUSE: scripts that timed out do nothing when the server runs them later', async () => {
    const k = key();
    const paused = server.client();
    const budget = redisTokenBucket(paused, { key: k, timeout: 0.05, onRedisError: 'closed' });
    await client.call('CLIENT', 'PAUSE', '400', 'ALL');
    const granted = await Promise.all(Array.from({ length: 20 }, () => budget.tryRetry(call())));
    expect(granted.every((g) => g === false)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await paused.ping();
    expect(await paused.get(k)).toBe(null);
    paused.disconnect();
  });

  it('a success does not wait for Redis: a first-try success during a stall settles at once', async () => {
    const k = key();
    const stalled = server.client();
    // A Redis timeout of 10 s and a stall of 10 s: a success that waited for Redis would take
    // seconds, whatever the machine's speed; one that does not settles in a few milliseconds.
    const budget = redisTokenBucket(stalled, {
      key: k,
      capacity: 10,
      onRedisError: 'closed',
      timeout: 10,
    });
    expect(await budget.tryRetry(call())).toBe(true); // 10 -> 5
    await client.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    const wrapped = onException(constant, Error, { logger: null, budget })(async () => 'ok');
    const started = performance.now();
    await expect(wrapped()).resolves.toBe('ok');
    expect(performance.now() - started).toBeLessThan(5_000);
    await client.call('CLIENT', 'UNPAUSE');
    // The refund of 1 reached Redis once the stall was over (within the script's deadline, or not
    // at all): never twice.
    expect(['5', '6']).toContain(await stalled.get(k));
    stalled.disconnect();
  });

  it('redisRatio: a request’s deposit does not wait for Redis: a first try during a stall settles at once', async () => {
    const k = key();
    const stalled = server.client();
    const budget = redisRatio(stalled, { key: k, onRedisError: 'closed', timeout: 10 });
    await client.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    const wrapped = onException(constant, Error, { logger: null, budget })(async () => 'ok');
    const started = performance.now();
    await expect(wrapped()).resolves.toBe('ok');
    expect(performance.now() - started).toBeLessThan(5_000); // 10 s if it waited
    await client.call('CLIENT', 'UNPAUSE');
    await stalled.ping();
    // The deposit reached Redis once the stall was over, and a retry asked after it sees it.
    expect(await stalled.hget(k, 'oq')).toBe('1');
    stalled.disconnect();
  });

  describe('replies that come after the client stopped waiting (a proxy holds each 400 ms)', () => {
    /** Fifty calls that each want one retry, through a budget whose replies all come too late. */
    async function lateReplies(budget: RetryBudget) {
      // The scripts in Redis's cache first (through a direct client), as in a fleet that has run
      // for a while: a NOSCRIPT reply that came late would send the script again past its deadline.
      const warm = { key: `${key()}:warm`, onError: () => {} };
      for (const budget of [redisTokenBucket(client, warm), redisRatio(client, warm)]) {
        budget.onRequest?.(call());
        await budget.tryRetry(call());
        budget.onSuccess?.(call());
      }
      const reasons: unknown[] = [];
      const attempts = { count: 0 };
      const calls = Array.from({ length: 50 }, () =>
        onException(constant, Error, {
          interval: 0,
          jitter: null,
          logger: null,
          maxTries: 2,
          budget,
          onGiveup: (d) => {
            reasons.push(d.reason);
          },
        })(async () => {
          // Every attempt fails: no success refunds a withdrawal and hides it.
          attempts.count += 1;
          throw new Error('down');
        })().catch((error: unknown) => error),
      );
      await Promise.all(calls);
      // Let the late replies and the refunds' own replies arrive.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return { reasons, attempts: attempts.count };
    }

    for (const onRedisError of ['closed', 'open'] as const) {
      it(`redisTokenBucket, '${onRedisError}': nothing is withdrawn for a call it stopped waiting for`, async () => {
        const proxy = await delayingProxy(server.port, 400);
        const late = new Redis({ port: proxy.port, host: '127.0.0.1' });
        await late.ping(); // connected and ready (its ready check's reply is late too)
        const k = key();
        const errors: unknown[] = [];
        const budget = redisTokenBucket(late, {
          key: k,
          capacity: 500,
          onRedisError,
          onError: (error) => errors.push(error),
        });
        const { reasons, attempts } = await lateReplies(budget);
        if (onRedisError === 'closed') {
          expect(reasons).toEqual(Array(50).fill('budget'));
          expect(attempts).toBe(50);
        } else {
          expect(reasons).toEqual(Array(50).fill('maxTries'));
          expect(attempts).toBe(100); // the local budget granted each retry
        }
        expect(errors.length).toBeGreaterThanOrEqual(50);
        // 50 withdrawals of 5 ran on the server, and 50 refunds gave them back.
        expect(await client.get(k)).toBe('500');
        late.disconnect();
        await proxy.close();
      });

      it(`redisRatio, '${onRedisError}': nothing is withdrawn for a call it stopped waiting for`, async () => {
        const proxy = await delayingProxy(server.port, 400);
        const late = new Redis({ port: proxy.port, host: '127.0.0.1' });
        await late.ping(); // connected and ready (its ready check's reply is late too)
        const k = key();
        const budget = redisRatio(late, {
          key: k,
          onRedisError,
          minRetriesPerSecond: 100,
          onError: () => {},
        });
        await lateReplies(budget);
        const hash = await client.hgetall(k);
        const sum = (prefix: string) =>
          ['o', ...Array.from({ length: 9 }, (_, i) => String(i))]
            .map((slot) => Number(hash[slot === 'o' ? `o${prefix}` : `${prefix}${slot}`] ?? 0))
            .reduce((a, b) => a + b, 0);
        // 50 deposits of 1000 (sent, not awaited: they arrive), no withdrawal and no retry left.
        expect({ requests: sum('q'), retries: sum('x'), tokens: sum('t') }).toEqual({
          requests: 50,
          retries: 0,
          tokens: 50_000,
        });
        late.disconnect();
        await proxy.close();
      });
    }

    it('redisRatio: a refund that comes slices later goes back into the slice it was taken from', async () => {
      // ttl 1 s: slices of 100 ms. The withdrawal runs at once, its reply is held 300 ms (the
      // client stops waiting at 100 ms), and the refund is held 250 ms on its way: it runs 2 or 3
      // slices later, and must land in the withdrawal's slice, so that both leave the window together.
      let sent = 0;
      const slow = {
        call: async (name: string, ...args: (string | number)[]) => {
          if (name !== 'EVALSHA' && name !== 'EVAL') return client.call(name, ...args);
          sent += 1;
          const mine = sent;
          if (mine === 2) await new Promise((resolve) => setTimeout(resolve, 250));
          const reply = await client.call(name, ...args);
          if (mine === 1) await new Promise((resolve) => setTimeout(resolve, 300));
          return reply;
        },
      };
      const k = key();
      const options = { key: k, ttl: 1, minRetriesPerSecond: 5, onError: () => {} };
      await redisRatio(client, options).tryRetry(call()); // the scripts cached; one retry taken
      const before = await client.hgetall(k);
      const budget = redisRatio(slow, { ...options, timeout: 0.1, onRedisError: 'closed' });
      expect(await budget.tryRetry(call())).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await client.hgetall(k);
      const slots = ['o', ...Array.from({ length: 9 }, (_, i) => String(i))];
      const field = (count: string, slot: string) =>
        slot === 'o' ? `o${count}` : `${count}${slot}`;
      // The one retry before is still counted; the withdrawal and its refund cancel out in one slice.
      const retries = slots.map((slot) => Number(after[field('x', slot)] ?? 0));
      expect(retries.reduce((a, b) => a + b, 0)).toBe(1);
      expect(retries.every((x) => x >= 0)).toBe(true);
      expect(Number(after.n)).toBeGreaterThan(Number(before.n ?? 0)); // the refund came slices later
    });

    it('a refund that runs before its withdrawal leaves a tombstone the withdrawal obeys', async () => {
      // A server whose clock is 10 s behind (every deadline moved 10 s on) and a withdrawal held
      // back 400 ms on its way: the client stops waiting at 250 ms and its refund runs first.
      let sent = 0;
      const skewed = {
        call: async (name: string, ...args: (string | number)[]) => {
          if (name === 'EVALSHA' || name === 'EVAL') {
            args[args.length - 1] = Number(args.at(-1)) + 10_000;
            sent += 1;
            if (sent === 1) await new Promise((resolve) => setTimeout(resolve, 400));
          }
          return client.call(name, ...args);
        },
      };
      const k = key();
      const budget = redisTokenBucket(skewed, {
        key: k,
        onRedisError: 'closed',
        onError: () => {},
      });
      expect(await budget.tryRetry(call())).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(sent).toBeGreaterThanOrEqual(2); // the withdrawal and its refund both ran
      expect(await client.get(k)).toBe(null); // the withdrawal found the tombstone: nothing taken
    });
  });

  it('a key of the wrong type: every script fails, the budget follows onRedisError, the key is untouched', async () => {
    const k = key();
    await client.hset(k, 'stranger', '1');
    const errors: unknown[] = [];
    const budget = redisTokenBucket(client, {
      key: k,
      onRedisError: 'closed',
      onError: (error) => errors.push(error),
    });
    expect(await budget.tryRetry(call())).toBe(false);
    expect(String(errors[0])).toMatch(/WRONGTYPE/);
    expect(await client.hgetall(k)).toEqual({ stranger: '1' });
  });

  it('sends scripts by SHA (EVALSHA), and their text only when Redis does not have them', async () => {
    await client.call('SCRIPT', 'FLUSH');
    await client.call('CONFIG', 'RESETSTAT');
    const budget = redisTokenBucket(client, { key: key(), onRedisError: 'closed' });
    for (let i = 0; i < 10; i++) expect(await budget.tryRetry(call())).toBe(true);
    const stats = String(await client.call('INFO', 'commandstats'));
    const calls = (command: string) =>
      Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls('evalsha')).toBe(10);
    expect(calls('eval')).toBe(1);
  });

  it('token bucket: the same arithmetic as the local one, kept in Redis', async () => {
    const k = key();
    const budget = redisTokenBucket(client, { key: k, capacity: 20, retryCost: 5 });
    const granted: boolean[] = [];
    for (let i = 0; i < 5; i++) granted.push(await budget.tryRetry(call()));
    expect(granted).toEqual([true, true, true, true, false]);
    expect(await client.get(k)).toBe('0');
    const retried = call();
    retried.memo = 5;
    budget.onSuccess?.(retried);
    await client.ping(); // a success is told without waiting; the connection keeps the order
    expect(await client.get(k)).toBe('5');
    budget.onSuccess?.(call());
    await client.ping();
    expect(await client.get(k)).toBe('6');
    const timeout = redisTokenBucket(client, { key: key(), capacity: 15 });
    expect(await timeout.tryRetry(call({ name: 'TimeoutError' }))).toBe(true);
    expect(await timeout.tryRetry(call({ name: 'TimeoutError' }))).toBe(false);
  });

  it('throttle: failures take tokens, successes add the ratio, retries above half', async () => {
    const k = key();
    const budget = redisThrottle(client, { key: k, maxTokens: 4, tokenRatio: 0.5 });
    expect(await budget.tryRetry(call())).toBe(true);
    await budget.onFailure?.(call());
    await budget.onFailure?.(call());
    expect(await client.get(k)).toBe('2');
    expect(await budget.tryRetry(call())).toBe(false);
    budget.onSuccess?.(call());
    await client.ping();
    expect(Number(await client.get(k))).toBe(2.5);
    expect(await budget.tryRetry(call())).toBe(true);
  });

  it('ratio: 20% of requests plus the reserve, counted on the server clock', async () => {
    const budget = redisRatio(client, {
      key: key(),
      ttl: 10,
      minRetriesPerSecond: 1,
      percentCanRetry: 0.5,
    });
    for (let i = 0; i < 10; i++) await budget.onRequest?.(call());
    let granted = 0;
    while (await budget.tryRetry(call())) granted += 1;
    expect(granted).toBe(15);
  });

  it('8 processes sharing one budget never exceed it by more than one retry each', async () => {
    const k = key();
    const runs = await Promise.all(
      Array.from({ length: 8 }, () =>
        promisify(execFile)(process.execPath, [WORKER, String(server.port), k, '30']),
      ),
    );
    const granted = runs.map(({ stdout }) => Number(stdout.trim()));
    const total = granted.reduce((sum, x) => sum + x, 0);
    // capacity 100 / cost 5 = 20 retries for the whole fleet (each process wanted 60).
    expect(total).toBeGreaterThanOrEqual(20);
    expect(total).toBeLessThanOrEqual(20 + 8);
    expect(await client.get(k)).toBe('0');
  }, 30_000);

  it.each(['open', 'closed'] as const)(
    'redis-server killed and restarted mid-run (fail %s): no call lost, every one settles clearly',
    async (policy) => {
      const failing = server.client({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 20,
      });
      failing.on('error', () => {});
      const redisErrors: unknown[] = [];
      const reasons: string[] = [];
      const budget = redisTokenBucket(failing, {
        key: key(),
        timeout: 0.1,
        onRedisError: policy,
        onError: (error) => redisErrors.push(error),
      });
      let attempt = 0;
      const wrapped = onException(constant, Error, {
        interval: 0.005,
        jitter: null,
        maxTries: 4,
        logger: null,
        budget,
        onGiveup: ({ reason }) => {
          reasons.push(reason);
        },
      })(async (id: number) => {
        attempt += 1;
        if (attempt % 2 === 0) throw new Error(`flaky ${id}`);
        return id;
      });
      const calls: Promise<PromiseSettledResult<number>>[] = [];
      const started = performance.now();
      const run = (async () => {
        for (let i = 0; i < 300; i++) {
          calls.push(
            wrapped(i).then(
              (value) => ({ status: 'fulfilled', value }) as const,
              (reason: unknown) => ({ status: 'rejected', reason }) as const,
            ),
          );
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 150));
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await server.start();
      await run;
      const results = await Promise.all(calls);
      failing.disconnect();

      expect(results).toHaveLength(300);
      for (const [id, result] of results.entries()) {
        if (result.status === 'fulfilled') expect(result.value).toBe(id);
        else expect((result.reason as Error).message).toBe(`flaky ${id}`);
      }
      expect(redisErrors.length).toBeGreaterThan(0);
      if (policy === 'closed') expect(reasons).toContain('budget');
      else expect(reasons).not.toContain('budget');
      expect(performance.now() - started).toBeLessThan(15_000);
    },
    30_000,
  );

  it('rejects a bad client or key', () => {
    expect(() => redisTokenBucket({} as never, { key: 'k' })).toThrow(/`client`/);
    expect(() => redisTokenBucket(client, { key: '' })).toThrow(/`key`/);
    expect(() => redisTokenBucket(client, { key: 'k', onRedisError: 'maybe' as never })).toThrow(
      /`onRedisError`/,
    );
  });
});
