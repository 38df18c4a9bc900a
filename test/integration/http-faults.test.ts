// Real HTTP faults against a server in its own process: connection resets, stalls, and the
// server killed and restarted mid-run. Every request either succeeds or gives up with the
// original error object.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expo, onException } from '../../src/index.js';

const SERVER = join(import.meta.dirname, '..', 'fixtures', 'fault-server.mjs');
let child: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

async function start(port: number): Promise<void> {
  child = spawn(process.execPath, [SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child?.stdout?.once('data', resolve));
}

async function kill(): Promise<void> {
  const running = child;
  child = undefined;
  if (!running || running.exitCode !== null || running.signalCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGKILL');
  await exited;
}

afterEach(kill);

/** fetch with a per-attempt timeout; both a network failure and the timeout are retried. */
function client(lastErrors: Map<number, unknown>, options: Record<string, unknown> = {}) {
  return onException(expo, [TypeError, DOMException], {
    factor: 0.01,
    maxTries: 8,
    maxTime: 10,
    logger: null,
    onGiveup: ({ args, exception }) => lastErrors.set(args[1] as number, exception),
    ...options,
  })(async (url: string, _id: number) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(200) });
    return response.text();
  });
}

describe('HTTP faults', () => {
  it('connection resets are retried until the server answers', async () => {
    const port = await freePort();
    await start(port);
    const get = client(new Map());
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get(`http://127.0.0.1:${port}/reset/2/${i}`, i)),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `/reset/2/${i}`));
  });

  it('a stalled answer times out and is retried', async () => {
    const port = await freePort();
    await start(port);
    const started = performance.now();
    expect(await client(new Map())(`http://127.0.0.1:${port}/stall/1/a`, 0)).toBe('/stall/1/a');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('gives up with the original error object when the server stays away', async () => {
    const port = await freePort();
    const lastErrors = new Map<number, unknown>();
    const error = await client(lastErrors, { maxTries: 3 })(`http://127.0.0.1:${port}/ok`, 7).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBe(lastErrors.get(7));
  });

  it('the server killed and restarted mid-run: every request succeeds or gives up with its own error', async () => {
    const port = await freePort();
    await start(port);
    const lastErrors = new Map<number, unknown>();
    let retries = 0;
    const get = client(lastErrors, {
      maxTime: 3,
      maxTries: null,
      onBackoff: () => {
        retries += 1;
      },
    });
    const calls: Promise<{ id: number; ok: boolean; value: unknown }>[] = [];
    const sending = (async () => {
      for (let id = 0; id < 150; id++) {
        calls.push(
          get(`http://127.0.0.1:${port}/ok/${id}`, id).then(
            (value) => ({ id, ok: true, value }),
            (value: unknown) => ({ id, ok: false, value }),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await start(port);
    await sending;
    const results = await Promise.all(calls);
    expect(results).toHaveLength(150);
    let recovered = 0;
    for (const { id, ok, value } of results) {
      if (ok) expect(value).toBe(`/ok/${id}`);
      else expect(value).toBe(lastErrors.get(id));
      if (ok) recovered += 1;
    }
    // Calls caught by the outage retried through it: with maxTime 3 s, all of them recover.
    expect(retries).toBeGreaterThan(0);
    expect(recovered).toBe(150);
  }, 30_000);
});
