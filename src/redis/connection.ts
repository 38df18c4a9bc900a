/**
 * How `backoff-ts/redis` talks to Redis: the client it is given (ioredis or node-redis), Lua scripts
 * sent by SHA-1 with a deadline they check on the server's clock, a timeout on every call, and keys
 * in one Redis Cluster hash slot. The budgets and the fleet breaker are built on it.
 *
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import { checkNumber, typeError } from '../base/validate.js';

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

/** A script as sent: its text, and the SHA-1 Redis caches it under (for EVALSHA). */
export interface LuaScript {
  readonly text: string;
  readonly sha: string;
}

/**
 * Every script starts by checking the caller's deadline (its last argument, in milliseconds since
 * the epoch) against the Redis server's clock, and does nothing past it: a call the client stopped
 * waiting for (a timeout, a command held in the client's offline queue or by `CLIENT PAUSE`) must
 * not withdraw or refund tokens later. It then answers `EXPIRED`.
 */
export const DEADLINE = `
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) > tonumber(ARGV[#ARGV]) then
  return -1
end
`;
const EXPIRED = -1;

/** A script; with `deadline` (the default) it first checks the caller's deadline ({@link DEADLINE}). */
export function lua(body: string, deadline = true): LuaScript {
  const text = deadline ? DEADLINE + body : body;
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

/** Sends one command through either client. */
export function send(client: RedisClient, command: readonly (string | number)[]): Promise<unknown> {
  const [name, ...args] = command as [string, ...(string | number)[]];
  return 'call' in client ? client.call(name, ...args) : client.sendCommand(command.map(String));
}

/**
 * Runs a script: EVALSHA, and EVAL once Redis says it does not have it (NOSCRIPT), so that the
 * script's text crosses the network once per server rather than on every call. The call has a
 * timeout and a deadline the script checks itself; the late answer of a timed-out call is dropped.
 */
export function evaluate(
  client: RedisClient,
  timeoutMs: number,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  const rest = [keys.length, ...keys, ...args, deadline];
  const reply = send(client, ['EVALSHA', script.sha, ...rest]).catch((error: unknown) => {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return send(client, ['EVAL', script.text, ...rest]);
  });
  return timed(reply, timeoutMs).then((value) => {
    if (value !== EXPIRED) return value;
    // In time by this host's clock, late by Redis's: the clocks disagree by more than the timeout.
    throw new Error(
      `Redis ran the script past its deadline by the server's clock: its clock is ahead of this host's by more than the timeout (${timeoutMs} ms)`,
    );
  });
}

/** `reply`, or a `TimeoutError` once `timeoutMs` has passed without it (the late reply is dropped). */
export function timed<T>(reply: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        Object.assign(new Error(`Redis did not answer within ${timeoutMs} ms`), {
          name: 'TimeoutError',
        }),
      );
    }, timeoutMs);
    reply.then(
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

/**
 * The key as the start of other keys in its Redis Cluster hash slot: as it is when it has a hash
 * tag (`{…}` with something inside: the slot is the tag's, whatever follows), else wrapped in one
 * (`{key}` hashes to the slot of `key`). A key with braces but no tag is left as it is: on a
 * cluster its receipts land elsewhere, and Redis refuses them (CROSSSLOT), which `onError` reports.
 */
export function hashTagged(key: string): string {
  const open = key.indexOf('{');
  const tagged = open >= 0 && key.indexOf('}', open + 1) > open + 1;
  return tagged || /[{}]/.test(key) ? key : `{${key}}`;
}

/** This process's id: the budgets' receipts and the breaker's probe leases carry it. */
export const PROCESS_ID: string = randomUUID();

/**
 * Checks what every Redis-backed object takes: a client, a non-empty key, a timeout in seconds.
 *
 * @returns the timeout in milliseconds
 */
export function checkRedis(client: unknown, key: unknown, timeout: unknown): number {
  if (
    typeof client !== 'object' ||
    client === null ||
    !('call' in client || 'sendCommand' in client)
  ) {
    throw typeError('client', 'an ioredis or node-redis client', client);
  }
  if (typeof key !== 'string' || key === '') throw typeError('key', 'a non-empty string', key);
  return (
    checkNumber(
      'timeout',
      timeout ?? 0.25,
      'a number of seconds > 0',
      (v) => Number.isFinite(v) && v > 0,
    ) * 1000
  );
}
