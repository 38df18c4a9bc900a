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

/** PostgreSQL's code for a query cancelled on request (`pg_cancel_backend`): 57014. */
const QUERY_CANCELED = '57014';

/**
 * A read that may hang (a lock, a slow plan): each attempt gets `timeout` seconds; when they are up
 * the attempt's signal aborts, the query is cancelled on the server (`pg_cancel_backend`, from
 * another connection of the pool), and the read is retried. Connection errors are retried too.
 *
 * @param {{ connect(): Promise<{ processID?: number | null, query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>, release(): void }>, query(text: string, values?: unknown[]): Promise<unknown> }} pool a pg Pool
 * @param {Record<string, unknown>} [tuning]
 */
export function makeTimedRead(pool, tuning = {}) {
  return backoff.onException(backoff.expo, ConnectionLost, {
    timeout: 5,
    maxTries: 3,
    factor: 0.05,
    maxValue: 1,
    ...tuning,
  })(async (/** @type {string} */ text, /** @type {unknown[]} */ values = []) => {
    const signal = backoff.attemptSignal(); // before the first await
    const client = await pool.connect();
    const cancel = () => {
      // The abandoned query must not go on holding a connection and its locks.
      pool.query('SELECT pg_cancel_backend($1)', [client.processID]).catch(() => {});
    };
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    try {
      return (await client.query(text, values)).rows;
    } catch (error) {
      // A query cancelled because the attempt was abandoned: nobody waits for its answer.
      if (signal.aborted && /** @type {{ code?: string }} */ (error).code === QUERY_CANCELED) {
        return undefined;
      }
      throw error;
    } finally {
      signal.removeEventListener('abort', cancel);
      client.release();
    }
  });
}
