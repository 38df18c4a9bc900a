// @ts-check
// Pattern: database operations that ride out a restart. Writes are idempotent (ON CONFLICT DO
// NOTHING on a unique id), so retrying a write whose answer was lost never duplicates it.
import * as backoff from 'backoff-ts';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08001',
  '08003',
  '08006',
]);

/** Matches the errors of a lost or refused database connection (a custom instanceof matcher). */
// biome-ignore lint/complexity/noStaticOnlyClass: a static Symbol.hasInstance is the point.
export class ConnectionLost {
  /** @param {unknown} error */
  static [Symbol.hasInstance](error) {
    const { code, message } = /** @type {{ code?: string, message?: string }} */ (error ?? {});
    return (
      (code !== undefined && CONNECTION_CODES.has(code)) ||
      /Connection terminated|connection error|timeout exceeded when trying to connect/i.test(
        message ?? '',
      )
    );
  }
}

/**
 * @param {{ query(text: string, values: unknown[]): Promise<unknown> }} pool a pg Pool
 * @param {Record<string, unknown>} [tuning]
 */
export function makeSaveWrite(pool, tuning = {}) {
  return backoff.onException(backoff.expo, ConnectionLost, {
    factor: 0.05,
    maxValue: 1,
    maxTime: 30,
    ...tuning,
  })((/** @type {number} */ id, /** @type {string} */ payload) =>
    pool.query('INSERT INTO writes (id, payload) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
      id,
      payload,
    ]),
  );
}
