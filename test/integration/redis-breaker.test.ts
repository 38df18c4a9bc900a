// The fleet breaker of backoff-ts/redis against a real redis-server: several breakers with one key
// stand for the processes of a fleet (each breaker is one process to the quorum). What each test
// names is a rule of the issue: counting stays local, the fleet opens on the server's clock, an
// open circuit costs no Redis read, one probe for the fleet, fail open when Redis fails.

import { randomUUID } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as backoff from '../../src/index.js';
import { type RedisCircuitBreaker, redisCircuitBreaker } from '../../src/redis.js';
import type { Admission, Granted } from '../../src/types.js';
import { quiet } from '../helpers.js';
import { RedisServer, redisWanted } from '../redis-server.js';

const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** A client that counts the commands it sends (EVALSHA and EVAL by the script's first line). */
function counting(client: Redis) {
  const sent: string[] = [];
  return {
    sent,
    call: (name: string, ...args: (string | number)[]) => {
      sent.push(name);
      return client.call(name, ...args);
    },
  };
}

const granted = (admission: Admission): Granted => {
  if (!admission.ok) throw new Error(`refused: ${JSON.stringify(admission)}`);
  return admission;
};

describe.runIf(redisWanted)('redisCircuitBreaker on a real Redis', () => {
  const server = new RedisServer();
  let client: Redis;
  const messages: unknown[] = [];
  const listen = (message: unknown) => messages.push(message);
  beforeAll(async () => {
    await server.start();
    client = server.client();
    dc.subscribe('backoff-ts:breaker', listen);
  });
  afterAll(async () => {
    dc.unsubscribe('backoff-ts:breaker', listen);
    client?.disconnect();
    await server.kill();
  });
  afterEach(() => {
    messages.length = 0;
  });

  /** `n` breakers of one new key: the processes of a fleet. */
  const fleet = (n: number, options: Record<string, unknown> = {}) => {
    const key = `fleet:${randomUUID()}`;
    const clients = Array.from({ length: n }, () => counting(client));
    const breakers = clients.map((c) =>
      redisCircuitBreaker(c, {
        key,
        trip: backoff.consecutive(2),
        halfOpenAfter: 0.3,
        syncInterval: 0.2,
        ...options,
      }),
    );
    return { key, clients, breakers };
  };
  const fail = async (breaker: RedisCircuitBreaker, times: number) => {
    for (let i = 0; i < times; i++)
      await granted(await breaker.acquire()).permit.failure(new Error());
  };

  it('a healthy circuit writes nothing to Redis, and reads it at most every syncInterval/2', async () => {
    const { key, clients, breakers } = fleet(1, { syncInterval: 0.2 });
    const [breaker] = breakers as [RedisCircuitBreaker];
    const started = performance.now();
    let calls = 0;
    while (performance.now() - started < 500) {
      const admission = granted(await breaker.acquire());
      await admission.permit.success();
      calls += 1;
      await pause(0.005);
    }
    expect(calls).toBeGreaterThan(20);
    // 0.5 s of calls, a read each 0.1 s at most (and the first): a handful, whatever the rate.
    expect(clients[0]?.sent.length).toBeLessThanOrEqual(7);
    expect(await client.exists(`{${key}}:breaker`, `{${key}}:breaker:trips`)).toBe(0);
  });

  it('one process trips: the fleet opens on the server clock, and every process refuses within syncInterval', async () => {
    const { key, breakers } = fleet(3, { halfOpenAfter: 5 });
    const [a, b, c] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker, RedisCircuitBreaker];
    granted(await b.acquire()); // b has read the fleet closed: its cache is fresh
    await fail(a, 2);
    await pause(0.05); // the trip's script
    expect(a.state()).toBe('open');
    const [seconds, micros] = (await client.call('TIME')) as [string, string];
    const openUntil = Number(await client.hget(`{${key}}:breaker`, 'open_until'));
    const serverNow = Number(seconds) * 1000 + Number(micros) / 1000;
    expect(openUntil - serverNow).toBeGreaterThan(4_000); // 5 s, less what this test took
    expect(openUntil - serverNow).toBeLessThanOrEqual(5_000);
    // c has never read: it reads now. b still admits on its fresh read, then learns.
    const refused = await c.acquire();
    expect(refused.ok).toBe(false);
    expect((refused as { retryAfter: number }).retryAfter).toBeGreaterThan(4);
    await pause(0.25);
    expect((await b.acquire()).ok).toBe(false);
    expect(b.state()).toBe('open');
    expect(messages).toContainEqual({ key, from: 'closed', to: 'open' });
  });

  it('an open circuit is refused with no Redis read until its time ends', async () => {
    const { clients, breakers } = fleet(2, { halfOpenAfter: 3 });
    const [a, b] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker];
    await fail(a, 2);
    await pause(0.05);
    expect((await b.acquire()).ok).toBe(false);
    const before = clients[1]?.sent.length;
    for (let i = 0; i < 1000; i++) expect((b.acquire() as Admission).ok).toBe(false);
    await pause(0.5);
    for (let i = 0; i < 100; i++) expect((b.acquire() as Admission).ok).toBe(false);
    expect(clients[1]?.sent.length).toBe(before);
  });

  it('half-open: exactly one process of the fleet probes; the others wait for its lease', async () => {
    const { breakers } = fleet(5, { probeTimeout: 5 });
    await fail(breakers[0] as RedisCircuitBreaker, 2);
    await pause(0.35);
    const answers = await Promise.all(breakers.map((breaker) => breaker.acquire()));
    const probes = answers.filter((answer) => answer.ok);
    expect(probes).toHaveLength(1);
    for (const answer of answers.filter((answer) => !answer.ok)) {
      const { retryAfter } = answer as { retryAfter: number };
      expect(retryAfter).toBeGreaterThan(4.5);
      expect(retryAfter).toBeLessThanOrEqual(5);
    }
    // The probe succeeds: the fleet closes, and the others admit again within syncInterval.
    await (probes[0] as Granted).permit.success();
    await pause(0.25);
    for (const breaker of breakers) expect((await breaker.acquire()).ok).toBe(true);
    expect(breakers.map((breaker) => breaker.state())).toEqual(Array(5).fill('closed'));
  });

  it('a failed probe opens the fleet for halfOpenAfter’s next time', async () => {
    const times = [0.3, 2];
    const { key, breakers } = fleet(2, {
      halfOpenAfter: () => times[Symbol.iterator](),
    });
    const [a, b] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker];
    await fail(a, 2);
    await pause(0.35);
    const probe = granted(await b.acquire());
    await probe.permit.failure(new Error());
    expect(await client.hget(`{${key}}:breaker`, 'opened')).toBe('2');
    const refused = (await a.acquire()) as { ok: false; retryAfter: number };
    expect(refused.ok).toBe(false);
    expect(refused.retryAfter).toBeGreaterThan(1.8);
  });

  it('a probe that never reports loses its lease when it expires', async () => {
    const { breakers } = fleet(2, { probeTimeout: 0.3 });
    const [a, b] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker];
    await fail(a, 2);
    await pause(0.35);
    granted(await a.acquire()); // the probe, lost
    expect((await b.acquire()).ok).toBe(false);
    await pause(0.35);
    expect((await b.acquire()).ok).toBe(true);
  });

  it('quorum: the fleet opens once that many processes have tripped within the window', async () => {
    const { key, breakers } = fleet(3, { quorum: 2, quorumWindow: 5 });
    const [a, b, c] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker, RedisCircuitBreaker];
    await fail(a, 2);
    await pause(0.05);
    expect(a.state()).toBe('open'); // its own breaker
    expect((await c.acquire()).ok).toBe(true);
    expect(await client.hlen(`{${key}}:breaker:trips`)).toBe(1);
    await fail(b, 2);
    await pause(0.25);
    expect((await c.acquire()).ok).toBe(false);
  });

  it('every key it writes has a TTL', async () => {
    const { key, breakers } = fleet(2, { quorum: 2, probeTimeout: 5 });
    const [a, b] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker];
    await fail(a, 2);
    await pause(0.05);
    expect(await client.pttl(`{${key}}:breaker:trips`)).toBeGreaterThan(0);
    await fail(b, 2);
    await pause(0.35);
    granted(await a.acquire());
    for (const name of ['breaker', 'breaker:probe']) {
      expect(await client.pttl(`{${key}}:${name}`)).toBeGreaterThan(0);
    }
  });

  it('the retry loop: a call in another process is refused by the fleet’s open circuit', async () => {
    const { key, breakers } = fleet(2, { halfOpenAfter: 5 });
    const [a, b] = breakers as [RedisCircuitBreaker, RedisCircuitBreaker];
    let calls = 0;
    const target = async () => {
      calls += 1;
      throw new Error('down');
    };
    const viaA = backoff.onException(backoff.constant, Error, {
      ...quiet,
      interval: 0,
      maxTries: 2,
      breaker: a,
    })(target);
    await expect(viaA()).rejects.toThrow('down');
    expect(calls).toBe(2);
    await pause(0.25);
    const viaB = backoff.onException(backoff.constant, Error, {
      ...quiet,
      interval: 0,
      maxTries: 2,
      maxTime: 1,
      breaker: b,
    })(target);
    const error = await viaB().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(backoff.BreakerOpenError);
    expect(error).toMatchObject({ key });
    expect(calls).toBe(2);
    await a.reset();
    expect(await client.exists(`{${key}}:breaker`)).toBe(0);
  });

  it('Redis down: each process falls back to its own breaker, says so, and recovers', async () => {
    const down = new RedisServer();
    await down.start();
    const downClient = down.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const errors: unknown[] = [];
    const key = `fleet:${randomUUID()}`;
    const make = () =>
      redisCircuitBreaker(downClient, {
        key,
        trip: backoff.consecutive(2),
        halfOpenAfter: 0.3,
        syncInterval: 0.2,
        timeout: 0.1,
        onError: (error) => errors.push(error),
      });
    const [a, b] = [make(), make()];
    granted(await a.acquire());
    await down.kill();
    await pause(0.25);
    // The read fails: a's own breaker decides, and the channel says Redis is unreachable.
    const started = performance.now();
    const admission = granted(await a.acquire());
    expect(performance.now() - started).toBeLessThan(1_000); // no hang: the timeout is 0.1 s
    await admission.permit.failure(new Error());
    await fail(a, 1);
    expect(a.state()).toBe('open');
    expect((await b.acquire()).ok).toBe(true); // b's own breaker is closed
    expect(errors.length).toBeGreaterThan(0);
    expect(messages).toContainEqual(expect.objectContaining({ key, redis: 'unreachable' }));
    await down.start();
    await pause(0.6);
    for (
      let i = 0;
      i < 20 && !messages.some((m) => (m as { redis?: string }).redis === 'reachable');
      i++
    ) {
      await b.acquire();
      await pause(0.1);
    }
    expect(messages).toContainEqual({ key, redis: 'reachable' });
    downClient.disconnect();
    await down.kill();
  });

  it('a lease whose reply came too late is let go: the fleet does not wait probeTimeout', async () => {
    const { key, breakers } = fleet(1, { probeTimeout: 30, halfOpenAfter: 0.5 });
    await fail(breakers[0] as RedisCircuitBreaker, 2);
    await pause(0.05);
    // Another process reads the open circuit; then its replies come 100 ms late, past its 50 ms
    // timeout, though its scripts still run.
    let slow = false;
    const client2 = {
      call: async (name: string, ...args: (string | number)[]) => {
        const reply = await client.call(name, ...args);
        if (slow) await pause(0.1);
        return reply;
      },
    };
    const late = redisCircuitBreaker(client2, {
      key,
      trip: backoff.consecutive(2),
      timeout: 0.05,
      onError: () => {},
    });
    expect((await late.acquire()).ok).toBe(false);
    slow = true;
    await pause(0.55);
    // Half-open: it asks for the lease, gets it on the server, and hears nothing in time: its own
    // breaker (closed) decides.
    expect((await late.acquire()).ok).toBe(true);
    await pause(0.2);
    // The lease it took without knowing is gone: another process probes now, not in 30 s.
    expect(await client.exists(`{${key}}:breaker:probe`)).toBe(0);
    expect((await (breakers[0] as RedisCircuitBreaker).acquire()).ok).toBe(true);
  });

  it('a throwing onError changes nothing', async () => {
    const broken = { call: () => Promise.reject(new Error('no redis')) };
    const breaker = redisCircuitBreaker(broken, {
      key: 'k',
      onError: () => {
        throw new Error('onError broke');
      },
    });
    expect((await breaker.acquire()).ok).toBe(true);
  });
});

describe('redisCircuitBreaker’s options', () => {
  const client = { call: () => Promise.resolve([0, 0, 0]) };
  it.each([
    [{ key: '' }, TypeError, 'key'],
    [{ key: 'k', syncInterval: 0 }, RangeError, 'syncInterval'],
    [{ key: 'k', quorum: 1.5 }, RangeError, 'quorum'],
    [{ key: 'k', quorumWindow: Number.POSITIVE_INFINITY }, RangeError, 'quorumWindow'],
    [{ key: 'k', timeout: -1 }, RangeError, 'timeout'],
    [{ key: 'k', probeTimeout: -1 }, RangeError, 'probeTimeout'],
    [{ key: 'k', onError: 1 }, TypeError, 'onError'],
  ])('%o is refused', (options, kind, name) => {
    expect(() => redisCircuitBreaker(client, options as never)).toThrow(kind);
    expect(() => redisCircuitBreaker(client, options as never)).toThrow(name);
  });
  it('refuses what is no client', () => {
    expect(() => redisCircuitBreaker({} as never, { key: 'k' })).toThrow(/client/);
  });
  it('an undefined option is as if left out', () => {
    expect(() =>
      redisCircuitBreaker(client, {
        key: 'k',
        syncInterval: undefined,
        quorum: undefined,
        quorumWindow: undefined,
        timeout: undefined,
        onError: undefined,
      }),
    ).not.toThrow();
  });
});
