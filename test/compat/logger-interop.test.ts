// The default log lines through real loggers: Node's Console, pino and winston.
import { Console } from 'node:console';
import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import winston from 'winston';
import { constant, onException } from '../../src/index.js';

function collect(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

async function run(logger: object, options: Record<string, unknown> = {}) {
  const wrapped = onException(constant, TypeError, {
    logger,
    interval: 0,
    maxTries: 2,
    ...options,
  } as never)(function syncJob() {
    throw new TypeError('db down');
  });
  await expect(wrapped()).rejects.toThrow('db down');
}

describe('logger interop', () => {
  it('Node’s real Console', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d) => {
      stdout += d;
    });
    err.on('data', (d) => {
      stderr += d;
    });
    await run(new Console({ stdout: out, stderr: err }));
    expect(stdout).toBe('Backing off syncJob(...) for 0.0s (TypeError: db down)\n');
    expect(stderr).toBe('Giving up syncJob(...) after 2 tries (TypeError: db down)\n');
  });

  it('pino, with its own levels (warn, fatal)', async () => {
    const { stream, lines } = collect();
    await run(pino({ level: 'trace' }, stream), {
      backoffLogLevel: 'warn',
      giveupLogLevel: 'fatal',
    });
    const records = lines().map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(records.map(({ level, msg }) => [level, msg])).toEqual([
      [40, 'Backing off syncJob(...) for 0.0s (TypeError: db down)'],
      [60, 'Giving up syncJob(...) after 2 tries (TypeError: db down)'],
    ]);
  });

  it('winston', async () => {
    const { stream, lines } = collect();
    const logger = winston.createLogger({
      level: 'debug',
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream })],
    });
    await run(logger, { backoffLogLevel: 'debug' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines().map((line) => JSON.parse(line))).toEqual([
      { level: 'debug', message: 'Backing off syncJob(...) for 0.0s (TypeError: db down)' },
      { level: 'error', message: 'Giving up syncJob(...) after 2 tries (TypeError: db down)' },
    ]);
  });

  it('a logger without the level asked for is refused when the decorator is made', () => {
    expect(() =>
      onException(constant, Error, { logger: pino(), backoffLogLevel: 'verbose' }),
    ).toThrow(/method `verbose`/);
  });
});
