// The "Database Operations" pattern against a real PostgreSQL (Debian's), started here as a
// throwaway cluster on a loopback port and restarted mid-run. Under CI a missing PostgreSQL fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSaveWrite, makeTimedRead } from '../../examples/database.js';

const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
const BIN = versions.length > 0 ? `/usr/lib/postgresql/${versions.at(-1)}/bin` : undefined;
const wanted = BIN !== undefined || process.env.CI !== undefined;

/** Runs a PostgreSQL program as the postgres user (PostgreSQL refuses to run as root). */
function asPostgres(program: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [command, argv] = root
    ? ['runuser', ['-u', 'postgres', '--', join(BIN as string, program), ...args]]
    : [join(BIN as string, program), args];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${program} failed: ${result.stderr}${result.stdout}`);
}

describe.runIf(wanted)('PostgreSQL through a restart', () => {
  let dir = '';
  let port = 0;
  let pool: pg.Pool;
  const data = () => join(dir, 'data');
  const start = () =>
    asPostgres('pg_ctl', [
      '-D',
      data(),
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  const stopNow = () => asPostgres('pg_ctl', ['-D', data(), '-m', 'immediate', '-w', 'stop']);

  beforeAll(async () => {
    if (BIN === undefined)
      throw new Error('PostgreSQL is not installed (CI is set: .ci/run installs it with apt-get)');
    dir = mkdtempSync(join(tmpdir(), 'backoff-pg-'));
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => probe.close(resolve));
    asPostgres('initdb', ['-D', data(), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    start();
    pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      max: 8,
      connectionTimeoutMillis: 500,
    });
    pool.on('error', () => {}); // idle clients lose their connection in the restart
    await pool.query('CREATE TABLE writes (id integer PRIMARY KEY, payload text NOT NULL)');
  }, 60_000);

  afterAll(async () => {
    await pool?.end().catch(() => {});
    try {
      stopNow();
    } catch {
      // already stopped
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writing through a server restart: zero lost and zero duplicated writes', async () => {
    let retries = 0;
    const saveWrite = makeSaveWrite(pool, {
      logger: null,
      onBackoff: () => {
        retries += 1;
      },
    });
    const WRITES = 400;
    let restarted: Promise<void> | undefined;
    for (let batch = 0; batch < WRITES; batch += 20) {
      if (batch === 100) {
        // Crash the server (immediate mode) mid-run; it comes back half a second later.
        stopNow();
        restarted = new Promise((resolve) => setTimeout(resolve, 500)).then(start);
      }
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => saveWrite(batch + i, `write ${batch + i}`)),
      );
    }
    await restarted;
    const { rows } = await pool.query(
      'SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct_ids FROM writes',
    );
    expect(rows[0]).toEqual({ total: WRITES, distinct_ids: WRITES });
    expect(retries).toBeGreaterThan(0);
  }, 60_000);

  it('a query that hangs is cancelled on the server at the attempt timeout, and retried', async () => {
    await pool.query('CREATE SEQUENCE IF NOT EXISTS reads');
    const timedOut: unknown[] = [];
    const read = makeTimedRead(pool, {
      logger: null,
      timeout: 0.5,
      onBackoff: ({ exception }: { exception: unknown }) => timedOut.push(exception),
    });
    const started = performance.now();
    // The first attempt sleeps 30 s on the server; the retry answers at once.
    const rows = await read(
      "SELECT pg_sleep(CASE WHEN nextval('reads') = 1 THEN 30 ELSE 0 END), 'fresh' AS answer",
    );
    expect(rows).toEqual([{ pg_sleep: '', answer: 'fresh' }]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]).toMatchObject({ name: 'AttemptTimeoutError', tries: 1, timeout: 0.5 });
    // On the server, the abandoned query is gone: not running, not holding its connection busy.
    const active = async () =>
      (
        await pool.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(CASE%' AND state = 'active' AND pid <> pg_backend_pid()",
        )
      ).rows[0].n;
    await expect.poll(active, { timeout: 5_000 }).toBe(0);
  }, 30_000);
});
