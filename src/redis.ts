/**
 * Retry budgets and a circuit breaker kept in Redis (`backoff-ts/redis`), so that a fleet of
 * processes shares them. Every update is one Lua script, atomic on the server. Bring your own
 * client — ioredis or node-redis (optional peer dependencies); this module imports neither. Every
 * Redis call has a timeout, and when Redis cannot be reached each falls back to its local kind
 * (or, for a budget configured so, refuses): it never hangs. The keys and scripts are a versioned
 * interface, written down in `docs/redis-schema.md` for services in other languages.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisCircuitBreaker, redisTokenBucket } from 'backoff-ts/redis';
 *
 * const redis = new Redis();
 * const budget = redisTokenBucket(redis, { key: 'retry-budget:payments' });
 * const breaker = redisCircuitBreaker(redis, { key: 'breaker:payments' });
 * const charge = backoff.onException(backoff.expo, HttpError, { budget, breaker, maxTries: 5 })(chargeCard);
 * ```
 *
 * @module
 */

export {
  type RedisBreakerNotice,
  type RedisCircuitBreaker,
  type RedisCircuitBreakerOptions,
  redisCircuitBreaker,
} from './redis/breaker.js';
export {
  type RedisBudgetOptions,
  redisRatio,
  redisThrottle,
  redisTokenBucket,
} from './redis/budgets.js';
export type { RedisClient } from './redis/connection.js';
