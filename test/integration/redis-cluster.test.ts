// The Redis budgets (and the fleet breaker) on a real Redis Cluster (three masters and a replica each, on loopback): every
// key a budget uses lands in one hash slot, and a run goes on through a slot migration and the
// failover of the key's master, with no call left unsettled and no error beyond what
// `onRedisError` promises.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consecutive, constant, onException, type RetryBudget } from '../../src/index.js';
import {
  redisCircuitBreaker,
  redisRatio,
  redisThrottle,
  redisTokenBucket,
} from '../../src/redis.js';
import type { Granted } from '../../src/types.js';
import { cli, RedisCluster, redisWanted } from '../redis-server.js';

const call = () => ({ tries: 1, outcome: new Error('x'), memo: undefined as unknown });

describe.runIf(redisWanted)('budgets on Redis Cluster', () => {
  const cluster = new RedisCluster();
  const clients: Cluster[] = [];
  beforeAll(() => cluster.start(), 120_000);
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster.stop();
  });

  function clusterClient(): Cluster {
    const client = new Cluster(
      cluster.live().map((node) => ({ host: '127.0.0.1', port: node.port })),
      { retryDelayOnTryAgain: 20, retryDelayOnClusterDown: 100, retryDelayOnFailover: 100 },
    );
    client.on('error', () => {});
    clients.push(client);
    return client;
  }

  it('every budget’s keys share one hash slot, receipts included: no CROSSSLOT', async () => {
    const client = clusterClient();
    for (const key of ['budget:plain', 'budget:{tagged}:api']) {
      const errors: unknown[] = [];
      const onError = (error: unknown) => errors.push(error);
      const bucket = redisTokenBucket(client, { key: `${key}:bucket`, onError });
      const shared = redisRatio(client, { key: `${key}:ratio`, onError });
      const throttled = redisThrottle(client, { key: `${key}:throttle`, onError });
      shared.onRequest?.(call());
      expect(await bucket.tryRetry(call())).toBe(true);
      expect(await shared.tryRetry(call())).toBe(true);
      await throttled.onFailure?.(call());
      expect(await throttled.tryRetry(call())).toBe(true);
      expect(errors).toEqual([]);
      expect(await client.get(`${key}:bucket`)).toBe('495');
      // The withdrawal's receipt is beside its key, on the node that serves the key's slot.
      const master = await cluster.masterOf(`${key}:bucket`);
      const receipts = await cli(['-p', String(master.port), 'keys', '*:receipt:*']);
      const prefix = key.includes('{') ? `${key}:bucket:receipt:` : `{${key}:bucket}:receipt:`;
      expect(receipts.split('\n').some((name) => name.startsWith(prefix))).toBe(true);
    }
  });

  it('the fleet breaker’s keys share one hash slot: it trips, leases and closes with no CROSSSLOT', async () => {
    const client = clusterClient();
    for (const key of ['breaker:plain', 'breaker:{tagged}:api']) {
      const errors: unknown[] = [];
      const options = {
        key,
        trip: consecutive(1),
        halfOpenAfter: 0.1,
        syncInterval: 0.05,
        onError: (error: unknown) => errors.push(error),
      };
      const [a, b] = [redisCircuitBreaker(client, options), redisCircuitBreaker(client, options)];
      await ((await a.acquire()) as Granted).permit.failure(new Error('x'));
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect((await b.acquire()).ok).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const probe = (await b.acquire()) as Granted;
      expect(probe.ok).toBe(true);
      expect((await a.acquire()).ok).toBe(false);
      await probe.permit.success();
      expect(errors).toEqual([]);
      const tag = key.includes('{') ? key : `{${key}}`;
      expect(await client.exists(`${tag}:breaker`)).toBe(0);
    }
  });

  it('a slot migration and a failover of the key’s master mid-run: every call settles as onRedisError says', async () => {
    const key = 'budget:{fleet}';
    const client = clusterClient();
    const results = { closed: [] as unknown[], open: [] as unknown[] };
    const errors: unknown[] = [];
    const budgets: Record<'closed' | 'open', RetryBudget> = {
      closed: redisTokenBucket(client, {
        key: `${key}:closed`,
        capacity: 1e9,
        onRedisError: 'closed',
        onError: (error) => errors.push(error),
      }),
      open: redisTokenBucket(client, {
        key: `${key}:open`,
        capacity: 1e9,
        onRedisError: 'open',
        onError: (error) => errors.push(error),
      }),
    };
    let running = true;
    const own = new Set<unknown>();
    const worker = async (mode: 'closed' | 'open') => {
      while (running) {
        let tries = 0;
        const outcome = await onException(constant, Error, {
          interval: 0.005,
          jitter: null,
          logger: null,
          maxTries: 2,
          budget: budgets[mode],
        })(async () => {
          tries += 1;
          if (tries === 1) {
            const error = new Error('the first try fails');
            own.add(error);
            throw error;
          }
          return 'ok';
        })().catch((error: unknown) => error);
        results[mode].push(outcome);
      }
    };
    const workers = [worker('closed'), worker('open'), worker('closed'), worker('open')];
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let failover = 0;
    let during = 0;
    const before = { closed: 0, open: 0 };
    try {
      await pause(500);

      // 1. The slot migrates to another master, key by key, while the calls go on.
      const source = await cluster.masterOf(key);
      const target = cluster.live().find((node) => node !== source && node.port !== source.port);
      const masters = [];
      for (const node of cluster.live()) {
        if ((await cli(['-p', String(node.port), 'role'])).startsWith('master')) masters.push(node);
      }
      const destination = masters.find((node) => node !== source) ?? target;
      if (destination === undefined) throw new Error('no other master');
      const slot = (await cli(['-p', String(source.port), 'cluster', 'keyslot', key])).trim();
      const [sourceId, destinationId] = [
        await cluster.idOf(source),
        await cluster.idOf(destination),
      ];
      await cli([
        '-p',
        String(destination.port),
        'cluster',
        'setslot',
        slot,
        'importing',
        sourceId,
      ]);
      await cli([
        '-p',
        String(source.port),
        'cluster',
        'setslot',
        slot,
        'migrating',
        destinationId,
      ]);
      // A hundred keys at a time (the budgets' keys and their receipts), with the calls in between.
      for (;;) {
        const keys = (
          await cli(['-p', String(source.port), 'cluster', 'getkeysinslot', slot, '100'])
        )
          .split('\n')
          .filter(Boolean);
        if (keys.length === 0) break;
        const moved = await cli([
          ...['-p', String(source.port), 'migrate', '127.0.0.1', String(destination.port)],
          ...['', '0', '5000', 'KEYS', ...keys],
        ]);
        if (moved.trim() !== 'OK') throw new Error(`MIGRATE: ${moved}`);
        await pause(20);
      }
      for (const node of masters) {
        await cli(['-p', String(node.port), 'cluster', 'setslot', slot, 'node', destinationId]);
      }
      await pause(500);

      // 2. The key's master (now the destination) dies; its replica takes over.
      Object.assign(before, { closed: results.closed.length, open: results.open.length });
      await destination.kill();
      const killed = performance.now();
      await cluster.settled(key);
      failover = performance.now() - killed;
      await pause(500); // the client learns the new master (its slots refresh)
      during = errors.length;
      await pause(1_000);
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // Every call settled: with its own value, or (closed) the target's own error after 'budget'.
    for (const outcome of results.open) expect(outcome).toBe('ok');
    for (const outcome of results.closed) {
      if (outcome !== 'ok') expect(own.has(outcome)).toBe(true);
    }
    expect(results.closed.length).toBeGreaterThan(before.closed);
    expect(results.open.length).toBeGreaterThan(before.open);
    // After the failover, Redis answers again: no new error in the last second.
    expect(errors.length).toBe(during);
    const tokens = Number(await client.get(`${key}:closed`));
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(1e9);
    console.log(
      `cluster run: ${results.closed.length + results.open.length} calls, failover in ${Math.round(failover)} ms, ${errors.length} Redis errors reported (onError), ${results.closed.filter((o) => o !== 'ok').length} refused in closed mode`,
    );
  }, 120_000);
});
