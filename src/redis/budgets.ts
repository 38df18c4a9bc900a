/**
 * Retry budgets kept in Redis, so that a fleet of processes shares one budget.
 * Every update is one Lua script, atomic on the server. Bring your own client — ioredis or
 * node-redis (optional peer dependencies); this module imports neither. Every Redis call has a
 * timeout, and when Redis cannot be reached the budget fails open (a local budget of the same kind
 * decides) or closed (no retries), as configured: it never hangs. The keys and scripts are a
 * versioned interface, written down in `docs/redis-schema.md` for services in other languages.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisTokenBucket } from 'backoff-ts/redis';
 *
 * const budget = redisTokenBucket(new Redis(), { key: 'retry-budget:payments' });
 * const charge = backoff.onException(backoff.expo, HttpError, { budget, maxTries: 5 })(chargeCard);
 * ```
 *
 * @module
 */

import { typeError } from '../base/validate.js';
import {
  type RatioOptions,
  ratio,
  ratioSettings,
  type ThrottleOptions,
  type TokenBucketOptions,
  throttle,
  throttleSettings,
  tokenBucket,
  tokenBucketSettings,
} from '../budgets/budget.js';
import type { BudgetCall, RetryBudget } from '../types.js';
import {
  checkRedis,
  evaluate,
  hashTagged,
  type LuaScript,
  lua,
  PROCESS_ID,
  type RedisClient,
} from './connection.js';

/**
 * Options every Redis-backed budget takes.
 *
 * @example
 * ```ts
 * const options: RedisBudgetOptions = { key: 'retry-budget:api', timeout: 0.2, onRedisError: 'closed' };
 * ```
 */
export interface RedisBudgetOptions {
  /** The Redis key that holds the shared state (a string, or a hash for the ratio budget). */
  readonly key: string;
  /**
   * Seconds each Redis call may take before it counts as failed; a withdrawal whose reply comes
   * later is refunded (the script ran, but the call did not wait for it). @defaultValue 0.25
   */
  readonly timeout?: number | undefined;
  /**
   * When Redis fails or times out: `'open'` lets a local budget of the same kind decide (retries go
   * on, still capped per process); `'closed'` refuses every retry until Redis answers again.
   * @defaultValue `'open'`
   */
  readonly onRedisError?: 'open' | 'closed' | undefined;
  /** Told of every Redis failure (say, to count them). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

type Hook = 'onRequest' | 'onFailure' | 'onSuccess' | 'tryRetry';
type Script = { script: LuaScript; args: (call: BudgetCall) => (string | number)[] };

/**
 * A withdrawal that can be taken back: `tryRetry`'s script records what it withdrew under a
 * receipt key for {@link RECEIPT_TTL_MS}, and `refund` (sent when the client stopped waiting for
 * the reply) gives it back — or, when it runs first, leaves a tombstone the withdrawal then obeys.
 * Either way, a call the client stopped waiting for withdraws nothing, exactly once.
 */
type Refundable = { refund: LuaScript; args: (call: BudgetCall) => (string | number)[] };

/**
 * How long a receipt (or a tombstone) lives, in ms: far longer than a refund takes to follow its
 * withdrawal (on the same connection, right after the client's timeout) or a withdrawal can still
 * run (its deadline is the client's timeout), and short enough that a fleet retrying 1,000 times a
 * second keeps about 10,000 receipts (about 1 MB).
 */
const RECEIPT_TTL_MS = 10_000;

/** Receipts issued in this process: after its `PROCESS_ID`, the count makes each id unique. */
let receipts = 0;

/**
 * Builds a Redis-backed budget from one script per hook it has (a hook without a script is left
 * out, so that the loop does not await it); `local` is the same budget kept in this process, used
 * when Redis fails and the policy is open.
 */
function redisBudget(
  client: RedisClient,
  options: RedisBudgetOptions,
  local: RetryBudget,
  scripts: { tryRetry: Script } & Partial<Record<Exclude<Hook, 'tryRetry'>, Script>>,
  refundable?: Refundable,
): RetryBudget {
  const timeoutMs = checkRedis(client, options?.key, options?.timeout);
  const open = (options.onRedisError ?? 'open') === 'open';
  if (
    options.onRedisError !== undefined &&
    options.onRedisError !== 'open' &&
    options.onRedisError !== 'closed'
  ) {
    throw typeError('onRedisError', "'open' or 'closed'", options.onRedisError);
  }
  const { key } = options;
  const receiptPrefix = `${hashTagged(key)}:receipt:${PROCESS_ID}:`;
  const keyOnly = [key];
  const hook = (name: Hook, entry: Script) => {
    const fallback = local[name]?.bind(local) as ((call: BudgetCall) => unknown) | undefined;
    const withdraws = name === 'tryRetry' && refundable !== undefined;
    return async (call: BudgetCall): Promise<unknown> => {
      // A success's refund (every successful call sends one) reuses one array.
      const keys = withdraws ? [key, `${receiptPrefix}${receipts++}`] : keyOnly;
      try {
        const reply = await evaluate(client, timeoutMs, entry.script, keys, entry.args(call));
        return name === 'tryRetry' ? Number(reply) === 1 : undefined;
      } catch (error) {
        options.onError?.(error);
        // The script may have run and withdrawn though its reply never came (late, lost): take
        // it back, so that the fallback's decision is the only one. Sent without waiting.
        if (withdraws) {
          const args = [...refundable.args(call), RECEIPT_TTL_MS];
          evaluate(client, timeoutMs, refundable.refund, keys, args).then(undefined, (late) => {
            options.onError?.(late);
          });
        }
        if (name !== 'tryRetry') return open ? fallback?.(call) : undefined;
        return open ? (fallback?.(call) ?? true) : false;
      }
    };
  };
  const budget: RetryBudget = {
    tryRetry: hook('tryRetry', scripts.tryRetry) as (call: BudgetCall) => Promise<boolean>,
    async: true,
  };
  if (scripts.onFailure !== undefined) budget.onFailure = hook('onFailure', scripts.onFailure);
  for (const name of ['onRequest', 'onSuccess'] as const) {
    const entry = scripts[name];
    if (entry === undefined) continue;
    // A request (Finagle's deposit) and a success (a refund) are told to Redis without the call
    // waiting for them: no decision of this call depends on the reply, and a first try would
    // otherwise pay a round trip (250 ms in a Redis stall). Scripts go out in order on the
    // connection, so a later tryRetry still sees the deposit and the fleet's arithmetic stays exact.
    const send = hook(name, entry);
    budget[name] = (call: BudgetCall) => {
      // Never rejects but through a throwing onError, which has nobody to tell here.
      void send(call).then(undefined, () => {});
    };
  }
  return budget;
}

// Lua numbers become Redis integers when returned: state is stored and returned as strings.
// KEYS[1]: the bucket, KEYS[2]: this withdrawal's receipt. ARGV: capacity, cost, receipt TTL (ms).
// A receipt that exists already is a tombstone: the client gave up on this call and refunded it
// before it ran.
const TOKEN_RETRY = lua(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
local cost = tonumber(ARGV[2])
if tokens < cost then return 0 end
redis.call('SET', KEYS[1], string.format('%.17g', tokens - cost))
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`);
// The refund of a withdrawal whose reply came too late: idempotent, never past the deadline check
// (it must run whenever it arrives). ARGV: capacity, receipt TTL (ms).
const TOKEN_REFUND = lua(
  `
local receipt = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], 'refunded', 'PX', ARGV[2])
if receipt == false or receipt == 'refunded' then return 0 end
local capacity = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
redis.call('SET', KEYS[1], string.format('%.17g', math.min(capacity, tokens + tonumber(receipt))))
return 1`,
  false,
);
const TOKEN_SUCCESS = lua(`
local capacity = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
redis.call('SET', KEYS[1], string.format('%.17g', math.min(capacity, tokens + tonumber(ARGV[2]))))
return 1`);

/**
 * The {@link tokenBucket} budget (AWS retry quota) kept in Redis under `key`.
 *
 * @param client - an ioredis or node-redis client
 * @param options - the Redis options and the token bucket's own
 * @returns a budget shared by every process that uses the same key
 * @example
 * ```ts
 * const budget = redisTokenBucket(redis, { key: 'retry-budget:db', capacity: 500 });
 * ```
 */
export function redisTokenBucket(
  client: RedisClient,
  options: RedisBudgetOptions & TokenBucketOptions,
): RetryBudget {
  const local = tokenBucket(options);
  const { capacity, successIncrement, costOf } = tokenBucketSettings(options);
  return redisBudget(
    client,
    options,
    local,
    {
      tryRetry: {
        script: TOKEN_RETRY,
        args: (call) => {
          call.memo = costOf(call);
          return [capacity, call.memo as number, RECEIPT_TTL_MS];
        },
      },
      onSuccess: {
        script: TOKEN_SUCCESS,
        args: (call) => [capacity, typeof call.memo === 'number' ? call.memo : successIncrement],
      },
    },
    { refund: TOKEN_REFUND, args: () => [capacity] },
  );
}

const THROTTLE_ADD = lua(`
local max = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
tokens = math.max(0, math.min(max, tokens + tonumber(ARGV[2])))
redis.call('SET', KEYS[1], string.format('%.17g', tokens))
return 1`);
const THROTTLE_ASK = lua(`
local max = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tokens > max / 2 then return 1 end
return 0`);

/**
 * The {@link throttle} budget (gRPC retry throttling) kept in Redis under `key`.
 *
 * @param client - an ioredis or node-redis client
 * @param options - the Redis options and the throttle's own
 * @returns a budget shared by every process that uses the same key
 * @example
 * ```ts
 * const budget = redisThrottle(redis, { key: 'retry-budget:search', maxTokens: 100, tokenRatio: 0.1 });
 * ```
 */
export function redisThrottle(
  client: RedisClient,
  options: RedisBudgetOptions & ThrottleOptions,
): RetryBudget {
  const local = throttle(options);
  const { maxTokens, tokenRatio } = throttleSettings(options);
  return redisBudget(client, options, local, {
    onFailure: { script: THROTTLE_ADD, args: () => [maxTokens, -1] },
    onSuccess: { script: THROTTLE_ADD, args: () => [maxTokens, tokenRatio] },
    tryRetry: { script: THROTTLE_ASK, args: () => [maxTokens] },
  });
}

// KEYS[1]: the budget's one hash. Finagle's windowed leaky bucket (see SlidingWindow in
// budget.ts), kept in one hash: the open slice (ot, oq, ox: tokens, requests, retries), the closed
// ones (t0..t8, q0..q8, x0..x8), when the open one opened (opened, ms of the server's clock), the
// next closed slot (next) and how many slots have been written (n: it dates a receipt).
// ARGV: the window in ms, deposit, withdrawal, reserve, then the script's own.
const RATIO_WINDOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local range = tonumber(ARGV[1])
local slice = math.floor(range / 10)
local fields = redis.call('HGETALL', KEYS[1])
local h = {}
for i = 1, #fields, 2 do h[fields[i]] = tonumber(fields[i + 1]) end
local opened = h.opened or now
local nextSlot = h.next or 0
local n = h.n or 0
local elapsed = now - opened
local counts = {'t', 'q', 'x'}
if elapsed >= slice then
  for _, c in ipairs(counts) do
    h[c .. nextSlot] = h['o' .. c] or 0
    h['o' .. c] = 0
  end
  nextSlot = (nextSlot + 1) % 9
  n = n + 1
  local skipped = math.min(math.floor(elapsed / slice) - 1, 9)
  for _ = 1, skipped do
    for _, c in ipairs(counts) do h[c .. nextSlot] = 0 end
    nextSlot = (nextSlot + 1) % 9
    n = n + 1
  end
  opened = now
end
local function save()
  h.opened = opened
  h.next = nextSlot
  h.n = n
  local out = {}
  for field, value in pairs(h) do
    out[#out + 1] = field
    out[#out + 1] = string.format('%.17g', value)
  end
  redis.call('HSET', KEYS[1], unpack(out))
  redis.call('PEXPIRE', KEYS[1], range * 2)
end
`;
// A request's deposit. ARGV: the window's four.
const RATIO_REQUEST = lua(`${RATIO_WINDOW}
h.ot = (h.ot or 0) + tonumber(ARGV[2])
h.oq = (h.oq or 0) + 1
save()
return 1`);
// A retry's withdrawal. KEYS[2]: its receipt (a tombstone when it exists already: the client gave
// up on this call first). ARGV: the window's four, the receipt's TTL (ms). The receipt says which
// slice the withdrawal went to: n and the slot the open slice is closed into.
const RATIO_RETRY = lua(`${RATIO_WINDOW}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local tokens = h.ot or 0
for k = 0, 8 do tokens = tokens + (h['t' .. k] or 0) end
local withdrawal = tonumber(ARGV[3])
if tokens + tonumber(ARGV[4]) < withdrawal then return 0 end
h.ot = (h.ot or 0) - withdrawal
h.ox = (h.ox or 0) + 1
save()
redis.call('SET', KEYS[2], n .. ':' .. nextSlot, 'PX', ARGV[5])
return 1`);
// The refund of a retry whose reply came too late, into the slice the withdrawal went to while the
// window still holds it. ARGV: the window's four, the receipt's TTL (ms). No deadline check.
const RATIO_REFUND = lua(
  `${RATIO_WINDOW}
local receipt = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], 'refunded', 'PX', ARGV[5])
if receipt == false or receipt == 'refunded' then return 0 end
local taken, slot = string.match(receipt, '^(%d+):(%d+)$')
local age = n - tonumber(taken)
if age > 9 then return 0 end
local tokens, retries = 'ot', 'ox'
if age > 0 then tokens, retries = 't' .. slot, 'x' .. slot end
h[tokens] = (h[tokens] or 0) + tonumber(ARGV[3])
h[retries] = (h[retries] or 0) - 1
save()
return 1`,
  false,
);

/**
 * The {@link ratio} budget (Finagle RetryBudget) kept in Redis in the hash `key`: the same
 * window of 10 slices and the same integer arithmetic as the local one, on the Redis server's clock.
 *
 * @param client - an ioredis or node-redis client
 * @param options - the Redis options and the ratio budget's own (its `clock` is not used)
 * @returns a budget shared by every process that uses the same key
 * @example
 * ```ts
 * const budget = redisRatio(redis, { key: 'retry-budget:api', percentCanRetry: 0.2 });
 * ```
 */
export function redisRatio(
  client: RedisClient,
  options: RedisBudgetOptions & RatioOptions,
): RetryBudget {
  const local = ratio(options);
  const { rangeMs, deposit, withdrawal, reserve } = ratioSettings(options);
  const args = () => [rangeMs, deposit, withdrawal, reserve];
  return redisBudget(
    client,
    options,
    local,
    {
      onRequest: { script: RATIO_REQUEST, args },
      tryRetry: { script: RATIO_RETRY, args: () => [...args(), RECEIPT_TTL_MS] },
    },
    { refund: RATIO_REFUND, args },
  );
}
