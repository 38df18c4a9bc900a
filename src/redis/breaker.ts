/**
 * A circuit breaker shared by a fleet through Redis. Each process counts its own attempts (a
 * healthy circuit writes nothing); when its count trips, one script adds it to the fleet's window
 * and may open the fleet's circuit until a time on the Redis server's clock. Each process reads
 * the fleet's state at most every `syncInterval` while closed, caches an open state until it ends,
 * and at half-open one process in the fleet probes, under a lease. When Redis fails or is slow,
 * the process's own breaker decides (fail open), and the channel says so.
 *
 * @module
 */

import { readClock, systemClock } from '../base/clock.js';
import { checkNumber, typeError } from '../base/validate.js';
import {
  type BreakerRefusal,
  type BreakerState,
  type BreakerTransition,
  type CircuitBreakerOptions,
  makeCircuitBreaker,
  nextOpenTime,
  openTimes,
  publishBreaker,
} from '../breakers/circuit-breaker.js';
import type { Admission, Breaker, BreakerPermit } from '../types.js';
import {
  checkRedis,
  evaluate,
  hashTagged,
  type LuaScript,
  lua,
  PROCESS_ID,
  type RedisClient,
  send,
  timed,
} from './connection.js';

/**
 * Options of {@link redisCircuitBreaker}: the built-in breaker's, and how it shares them.
 *
 * @example
 * ```ts
 * const options: RedisCircuitBreakerOptions = { key: 'breaker:payments', trip: backoff.consecutive(5) };
 * ```
 */
export interface RedisCircuitBreakerOptions
  extends Omit<CircuitBreakerOptions, 'key' | 'clock' | 'initialState'> {
  /** The fleet's name for the breaker: its Redis keys start with it (hash-tagged). */
  readonly key: string;
  /** Seconds each Redis call may take before it counts as failed. @defaultValue 0.25 */
  readonly timeout?: number | undefined;
  /**
   * The longest, in seconds, a process admits attempts on what it last read of the fleet's state:
   * a circuit the fleet opened is refused by every process within it. @defaultValue 1
   */
  readonly syncInterval?: number | undefined;
  /** How many processes' breakers must trip within `quorumWindow` to open the fleet's. @defaultValue 1 */
  readonly quorum?: number | undefined;
  /** Seconds from the first trip a process reports in which the others count towards `quorum`. @defaultValue 30 */
  readonly quorumWindow?: number | undefined;
  /** Told of every Redis failure (say, to count them). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/**
 * A circuit breaker shared by the processes that use the same `key` (a {@link Breaker} for the
 * `breaker` option of the async twins: `acquire` returns a Promise when it must ask Redis).
 *
 * @example
 * ```ts
 * const breaker = redisCircuitBreaker(redis, { key: 'breaker:payments' });
 * if (breaker.state() === 'open') console.log('payments are down, fleet-wide');
 * ```
 */
export interface RedisCircuitBreaker extends Breaker {
  /** Its `key`. */
  readonly key: string;
  /** A permit, or a refusal with the seconds until the fleet may let a probe through. */
  acquire(): Admission | Promise<Admission>;
  /** This process's view of the state, without asking Redis. */
  state(): BreakerState;
  /**
   * Closes the fleet's circuit (deletes its keys) and this process's breaker; the other processes
   * see it at their next read (an open state they hold lasts until its time ends).
   */
  reset(): Promise<void>;
}

/**
 * What a fleet breaker says on `backoff-ts:breaker` besides transitions and refusals: Redis failed
 * and the process's own breaker decides, or Redis answers again.
 *
 * @example
 * ```ts
 * diagnostics_channel.subscribe('backoff-ts:breaker', (message) => {
 *   if ((message as RedisBreakerNotice).redis === 'unreachable') alert('breaker fell back');
 * });
 * ```
 */
export type RedisBreakerNotice =
  | {
      /** The breaker's `key`. */
      readonly key: string;
      /** Redis failed: this process's own breaker decides. */
      readonly redis: 'unreachable';
      /** What Redis (or the timeout) failed with. */
      readonly error: unknown;
    }
  | {
      /** The breaker's `key`. */
      readonly key: string;
      /** A script answered again: the fleet's state decides. */
      readonly redis: 'reachable';
    };

/**
 * The open times the scripts get, the first {@link STEPS} of `halfOpenAfter` (ms): the opening
 * after them repeats the last.
 */
const STEPS = 8;
/** How long the fleet's state outlives its open time, in ms: an hour unasked, and it is closed. */
const KEEP_MS = 3_600_000;

// KEYS: the state (a hash: open_until, ms of the server's clock; opened, openings in a row), the
// window of trips (a hash: process id -> failures it counted), the probe's lease (its holder's id).
// ARGV: id, count, quorum, quorum window (ms), probe timeout (ms), keep (ms), STEPS open times
// (ms), deadline. A reply is {code, ms, opened}: 0 closed; 1 open, ms until half-open; 2 half-open,
// ms left of the lease (0: none); 3 the lease is the caller's, for ms.
const BREAKER = `
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function view()
  local state = redis.call('HMGET', KEYS[1], 'open_until', 'opened')
  local opened = tonumber(state[2] or 0)
  local openUntil = tonumber(state[1])
  if not openUntil then return {0, 0, opened} end
  if openUntil > now then return {1, openUntil - now, opened} end
  return {2, math.max(redis.call('PTTL', KEYS[3]), 0), opened}
end
local function open(opened)
  local wait = tonumber(ARGV[6 + math.min(opened + 1, ${STEPS})])
  redis.call('HSET', KEYS[1], 'open_until', string.format('%.17g', now + wait), 'opened', opened + 1)
  redis.call('PEXPIRE', KEYS[1], wait + tonumber(ARGV[6]))
  redis.call('DEL', KEYS[2], KEYS[3])
end
`;
// The fleet's state, read.
const READ = lua(`${BREAKER}
return view()`);
// A process's breaker tripped (count: the failures it counted): into the window, and open once
// quorum processes are in it.
const TRIP = lua(`${BREAKER}
local current = view()
if current[1] ~= 0 then return current end
redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[2]) < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
if redis.call('HLEN', KEYS[2]) < tonumber(ARGV[3]) then return current end
open(0)
return view()`);
// Half-open: the lease, if nobody holds it.
const PROBE = lua(`${BREAKER}
local current = view()
if current[1] ~= 2 then return current end
if redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[5]) then
  return {3, tonumber(ARGV[5]), current[3]}
end
return view()`);
// The probe's outcome (count: success, failure or ignore), if its lease is still the caller's.
const REPORT = lua(`${BREAKER}
if redis.call('GET', KEYS[3]) == ARGV[1] then
  if ARGV[2] == 'success' then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  elseif ARGV[2] == 'failure' then open(view()[3])
  else redis.call('DEL', KEYS[3]) end
end
return view()`);

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const LEASED = 3;

type Reply = [code: number, ms: number, opened: number];

/** Breakers made in this process: each is one process to the fleet's quorum. */
let instances = 0;

/**
 * Makes a circuit breaker shared through Redis by every process that uses the same `key`.
 *
 * Closed, each process counts its attempts with `trip` as the built-in breaker does, and reads the
 * fleet's state at most every `syncInterval` (in the background from half of it; the first call
 * past it waits for the read). A process whose count trips opens its own breaker and tells the
 * fleet: once `quorum` processes have within `quorumWindow`, the fleet's circuit opens for
 * `halfOpenAfter`'s next time, on the Redis server's clock. Every process refuses until then without
 * asking Redis; then one process in the fleet holds the probe's lease (`SET NX PX probeTimeout`)
 * and the others are refused with `retryAfter` = the lease's time left. The probe's success closes
 * the fleet; its failure opens it for the next time; a probe that never reports loses the lease.
 * When Redis fails or does not answer within `timeout`, the process's own breaker decides.
 *
 * @param client - an ioredis or node-redis client
 * @param options - the built-in breaker's options (`trip`, `halfOpenAfter`, `probeTimeout`), `key`,
 *   `timeout`, `syncInterval`, `quorum`, `quorumWindow` (seconds) and `onError`
 * @returns the breaker, for the `breaker` option of the async twins
 * @example
 * ```ts
 * const breaker = redisCircuitBreaker(redis, { key: 'breaker:payments', trip: backoff.consecutive(5) });
 * const charge = backoff.onException(backoff.expo, HttpError, { breaker, maxTries: 3 })(chargeCard);
 * ```
 */
export function redisCircuitBreaker(
  client: RedisClient,
  options: RedisCircuitBreakerOptions,
): RedisCircuitBreaker {
  const timeoutMs = checkRedis(client, options?.key, options?.timeout);
  const { key, onError } = options;
  const seconds = (name: string, value: unknown, fallback: number) =>
    checkNumber(
      name,
      value ?? fallback,
      'a finite number of seconds > 0',
      (v) => Number.isFinite(v) && v > 0,
    );
  const syncInterval = seconds('syncInterval', options.syncInterval, 1);
  const quorumWindowMs = Math.ceil(seconds('quorumWindow', options.quorumWindow, 30) * 1000);
  const quorum = checkNumber(
    'quorum',
    options.quorum ?? 1,
    'a positive integer',
    (v) => Number.isInteger(v) && v >= 1,
  );
  if (onError !== undefined && typeof onError !== 'function')
    throw typeError('onError', 'a function', onError);
  // The local breaker checks the options it shares; its transitions come here, not to the channel.
  const local = makeCircuitBreaker(
    {
      trip: options.trip,
      halfOpenAfter: options.halfOpenAfter,
      probeTimeout: options.probeTimeout,
      key,
    },
    (from, to, failures) => {
      if (from === 'closed' && to === 'open') void ask(TRIP, id, failures);
      announce();
    },
  );
  // A lease of 0 ms is refused by Redis: 1 ms is as short.
  const probeMs = Math.max(1, Math.round((options.probeTimeout ?? 60) * 1000));
  // The fleet's open times, taken once: the process that opens the fleet decides its times.
  const times = openTimes(options.halfOpenAfter)();
  const settings = [quorum, quorumWindowMs, probeMs, KEEP_MS];
  for (let i = 0; i < STEPS; i++) settings.push(Math.round(nextOpenTime(times) * 1000));
  const id = `${PROCESS_ID}:${instances++}`;
  let leases = 0;
  const tag = hashTagged(key);
  const keys = [`${tag}:breaker`, `${tag}:breaker:trips`, `${tag}:breaker:probe`];

  /** The fleet's state as last read: CLOSED, OPEN, HALF_OPEN, or undefined (not known: the local breaker decides). */
  let fleet: number | undefined;
  /** Open: when the fleet half-opens; half-open: when the lease ends (seconds, this process's clock). */
  let until = 0;
  /** When the state last read was asked for (seconds). */
  let syncedAt = Number.NEGATIVE_INFINITY;
  let reachable = true;
  let reading: Promise<unknown> | undefined;
  /** Requests sent, and the latest one whose reply has been taken: an older reply is stale. */
  let sent = 0;
  let taken = 0;
  let shown: BreakerState = 'closed';

  const now = (): number => readClock(systemClock);

  const view = (): BreakerState => {
    if (fleet === OPEN) return now() < until ? 'open' : 'halfOpen';
    if (fleet === HALF_OPEN) return 'halfOpen';
    return local.state();
  };
  const announce = (): void => {
    const to = view();
    if (to === shown) return;
    const from = shown;
    shown = to;
    publishBreaker(() => ({ key, from, to }) satisfies BreakerTransition);
  };
  const tellError = (error: unknown): void => {
    try {
      onError?.(error);
    } catch {
      // A throwing onError changes nothing: the breaker falls back as it would have.
    }
  };

  /** Runs a script, and takes its reply as the fleet's state; `undefined` when Redis failed. */
  const ask = (
    script: LuaScript,
    who: string,
    count: number | string,
  ): Promise<Reply | undefined> => {
    const mine = ++sent;
    const at = now();
    return evaluate(client, timeoutMs, script, keys, [who, count, ...settings]).then(
      (raw) => {
        const reply = raw as Reply;
        if (mine > taken) {
          taken = mine;
          const before = fleet;
          fleet = reply[0] === LEASED ? HALF_OPEN : reply[0];
          until = at + reply[1] / 1000;
          syncedAt = at;
          // The fleet closed: this process's breaker, open since it tripped, closes with it.
          if ((before === OPEN || before === HALF_OPEN) && fleet === CLOSED) local.reset();
          if (!reachable) {
            reachable = true;
            publishBreaker(() => ({ key, redis: 'reachable' }) satisfies RedisBreakerNotice);
          }
          announce();
        }
        return reply;
      },
      (error: unknown) => {
        tellError(error);
        if (mine > taken) {
          taken = mine;
          fleet = undefined;
          syncedAt = now();
          if (reachable) {
            reachable = false;
            publishBreaker(
              () => ({ key, redis: 'unreachable', error }) satisfies RedisBreakerNotice,
            );
          }
          announce();
        }
        return undefined;
      },
    );
  };

  const read = (): Promise<unknown> => {
    reading ??= ask(READ, id, 0).then(() => {
      reading = undefined;
    });
    return reading;
  };

  const refuse = (retryAfter: number): Admission => {
    publishBreaker(
      () => ({ key, refused: true, state: view(), retryAfter }) satisfies BreakerRefusal,
    );
    return { ok: false, retryAfter };
  };

  /** The probe's permit: its outcome goes to the fleet, under its lease. */
  const leasePermit = (lease: string): BreakerPermit => {
    const report = (outcome: string) => ask(REPORT, lease, outcome).then(() => undefined);
    return {
      success: () => report('success'),
      failure: () => report('failure'),
      ignore: () => report('ignore'),
    };
  };

  /** Half-open, as far as this process knows: asks for the lease. */
  const probe = (): Promise<Admission> => {
    const lease = `${id}:${leases++}`;
    return ask(PROBE, lease, 0).then((reply) => {
      if (reply === undefined) {
        // The script may have run and granted the lease though its reply never came (late,
        // lost): let it go, so that the fleet does not wait probeTimeout for a probe nobody sends.
        void ask(REPORT, lease, 'ignore');
        return local.acquire();
      }
      if (reply[0] === LEASED) return { ok: true, permit: leasePermit(lease) };
      return decide(now(), false);
    });
  };

  /** The answer at `at`; `sync`: whether a state read too long ago may be read again first. */
  function decide(at: number, sync: boolean): Admission | Promise<Admission> {
    const age = at - syncedAt;
    if (fleet === OPEN) return at < until ? refuse(until - at) : probe();
    if (fleet === HALF_OPEN) {
      // Someone holds the lease: refused until it ends, and asked again at syncInterval, when the
      // probe may have closed the circuit.
      return at < until && age < syncInterval ? refuse(until - at) : probe();
    }
    if (age >= syncInterval && sync && reachable) return read().then(() => decide(now(), false));
    // Read ahead, so that a busy process never waits for one; a failed Redis is tried again at
    // syncInterval, meanwhile.
    if (age >= (reachable ? syncInterval / 2 : syncInterval)) void read();
    return local.acquire();
  }

  return {
    key,
    acquire: () => decide(now(), true),
    state: view,
    async reset(): Promise<void> {
      await timed(send(client, ['DEL', ...keys]), timeoutMs);
      fleet = CLOSED;
      syncedAt = now();
      local.reset();
      announce();
    },
  };
}
