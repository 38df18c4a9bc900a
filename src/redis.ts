/**
 * Retry budgets kept in Redis (`backoff-ts/redis`), so that a fleet of processes shares one budget.
 * Every update is one Lua script, atomic on the server. Bring your own client — ioredis or
 * node-redis (optional peer dependencies); this module imports neither. Every Redis call has a
 * timeout, and when Redis cannot be reached the budget fails open (a local budget of the same kind
 * decides) or closed (no retries), as configured: it never hangs.
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

import {
  type BudgetCall,
  type RatioOptions,
  type RetryBudget,
  ratio,
  ratioSettings,
  type ThrottleOptions,
  type TokenBucketOptions,
  throttle,
  throttleSettings,
  tokenBucket,
  tokenBucketSettings,
} from './budget.js';
import { checkNumber, typeError } from './validate.js';

/**
 * The Redis client: ioredis (has `call`) or node-redis v4+ (has `sendCommand`).
 *
 * @example
 * ```ts
 * const client: RedisClient = new Redis(process.env.REDIS_URL);
 * ```
 */
export type RedisClient =
  | {
      /** ioredis: sends any command. */
      call(command: string, ...args: (string | number)[]): Promise<unknown>;
    }
  | {
      /** node-redis: sends any command. */
      sendCommand(args: string[]): Promise<unknown>;
    };

/**
 * Options every Redis-backed budget takes.
 *
 * @example
 * ```ts
 * const options: RedisBudgetOptions = { key: 'retry-budget:api', timeout: 0.2, onRedisError: 'closed' };
 * ```
 */
export interface RedisBudgetOptions {
  /** The Redis key (a prefix, for the ratio budget) that holds the shared state. */
  readonly key: string;
  /** Seconds each Redis call may take before it counts as failed. @defaultValue 0.25 */
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

/** Runs a script with a timeout; the late answer of a timed-out call is dropped quietly. */
function evaluate(
  client: RedisClient,
  timeoutMs: number,
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const reply =
    'call' in client
      ? client.call('EVAL', script, keys.length, ...keys, ...args)
      : client.sendCommand(['EVAL', script, String(keys.length), ...keys, ...args.map(String)]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        Object.assign(new Error(`Redis did not answer within ${timeoutMs} ms`), {
          name: 'TimeoutError',
        }),
      );
    }, timeoutMs);
    Promise.resolve(reply).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

type Hook = 'onRequest' | 'onFailure' | 'onSuccess' | 'tryRetry';
type Script = { script: string; args: (call: BudgetCall) => (string | number)[] };

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
  keys: readonly string[],
): RetryBudget {
  if (
    typeof client !== 'object' ||
    client === null ||
    !('call' in client || 'sendCommand' in client)
  ) {
    throw typeError('client', 'an ioredis or node-redis client', client);
  }
  if (typeof options?.key !== 'string' || options.key === '')
    throw typeError('key', 'a non-empty string', options?.key);
  const timeoutMs =
    checkNumber(
      'timeout',
      options.timeout ?? 0.25,
      'a number of seconds > 0',
      (v) => Number.isFinite(v) && v > 0,
    ) * 1000;
  const open = (options.onRedisError ?? 'open') === 'open';
  if (
    options.onRedisError !== undefined &&
    options.onRedisError !== 'open' &&
    options.onRedisError !== 'closed'
  ) {
    throw typeError('onRedisError', "'open' or 'closed'", options.onRedisError);
  }
  const hook = (name: Hook, entry: Script) => {
    const fallback = local[name]?.bind(local) as ((call: BudgetCall) => unknown) | undefined;
    return async (call: BudgetCall): Promise<unknown> => {
      try {
        const reply = await evaluate(client, timeoutMs, entry.script, keys, entry.args(call));
        return name === 'tryRetry' ? Number(reply) === 1 : undefined;
      } catch (error) {
        options.onError?.(error);
        if (name !== 'tryRetry') return open ? fallback?.(call) : undefined;
        return open ? (fallback?.(call) ?? true) : false;
      }
    };
  };
  const budget: RetryBudget = {
    tryRetry: hook('tryRetry', scripts.tryRetry) as (call: BudgetCall) => Promise<boolean>,
    async: true,
  };
  for (const name of ['onRequest', 'onFailure', 'onSuccess'] as const) {
    const entry = scripts[name];
    if (entry !== undefined) budget[name] = hook(name, entry);
  }
  return budget;
}

// Lua numbers become Redis integers when returned: state is stored and returned as strings.
const TOKEN_RETRY = `
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
local cost = tonumber(ARGV[2])
if tokens < cost then return 0 end
redis.call('SET', KEYS[1], tostring(tokens - cost))
return 1`;
const TOKEN_SUCCESS = `
local capacity = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
redis.call('SET', KEYS[1], tostring(math.min(capacity, tokens + tonumber(ARGV[2]))))
return 1`;

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
          call.memo = costOf(call.outcome);
          return [capacity, call.memo as number];
        },
      },
      onSuccess: {
        script: TOKEN_SUCCESS,
        args: (call) => [capacity, typeof call.memo === 'number' ? call.memo : successIncrement],
      },
    },
    [options.key],
  );
}

const THROTTLE_ADD = `
local max = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
tokens = math.max(0, math.min(max, tokens + tonumber(ARGV[2])))
redis.call('SET', KEYS[1], tostring(tokens))
return 1`;
const THROTTLE_ASK = `
local max = tonumber(ARGV[1])
local tokens = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tokens > max / 2 then return 1 end
return 0`;

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
  return redisBudget(
    client,
    options,
    local,
    {
      onFailure: { script: THROTTLE_ADD, args: () => [maxTokens, -1] },
      onSuccess: { script: THROTTLE_ADD, args: () => [maxTokens, tokenRatio] },
      tryRetry: { script: THROTTLE_ASK, args: () => [maxTokens] },
    },
    [options.key],
  );
}

// KEYS[1]: requests hash, KEYS[2]: retries hash (field: the second, from the server's clock).
const RATIO_REQUEST = `
local second = tonumber(redis.call('TIME')[1])
redis.call('HINCRBY', KEYS[1], second, 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]) + 1)
return 1`;
const RATIO_RETRY = `
local ttl = tonumber(ARGV[1])
local second = tonumber(redis.call('TIME')[1])
local function sum(key)
  local total = 0
  local fields = redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    local at = tonumber(fields[i])
    if at > second - ttl then total = total + tonumber(fields[i + 1])
    else redis.call('HDEL', key, fields[i]) end
  end
  return total
end
local balance = tonumber(ARGV[2]) * ttl + tonumber(ARGV[3]) * sum(KEYS[1]) - sum(KEYS[2])
if balance < 1 then return 0 end
redis.call('HINCRBY', KEYS[2], second, 1)
redis.call('EXPIRE', KEYS[2], ttl + 1)
return 1`;

/**
 * The {@link ratio} budget (Finagle RetryBudget) kept in Redis under `key:requests` and
 * `key:retries`, counted by the Redis server's clock.
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
  const { ttl, minRetriesPerSecond, percentCanRetry } = ratioSettings(options);
  return redisBudget(
    client,
    options,
    local,
    {
      onRequest: { script: RATIO_REQUEST, args: () => [ttl] },
      tryRetry: {
        script: RATIO_RETRY,
        args: () => [ttl, minRetriesPerSecond, percentCanRetry],
      },
    },
    [`${options.key}:requests`, `${options.key}:retries`],
  );
}
