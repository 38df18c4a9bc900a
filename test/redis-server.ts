// A throwaway redis-server on a free loopback port, for the tests that need a real one. When
// CI is set and redis-server is missing, the tests fail rather than skip.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export function findRedisServer(): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() ||
      undefined
    );
  } catch {
    return undefined;
  }
}

export const redisBinary = findRedisServer();
/** Run the Redis tests here? Always under CI (where a missing server is a failure). */
export const redisWanted = redisBinary !== undefined || process.env.CI !== undefined;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export class RedisServer {
  port = 0;
  #process: ChildProcess | undefined;

  async start(): Promise<void> {
    if (redisBinary === undefined) {
      throw new Error(
        'redis-server is not installed (CI is set: .ci/run installs it with apt-get)',
      );
    }
    if (this.port === 0) this.port = await freePort();
    this.#process = spawn(
      redisBinary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const probe = new Redis({
      port: this.port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch (error) {
        probe.disconnect();
        if (i > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** A client; connection errors while the server is down are expected, not reported. */
  client(options: Record<string, unknown> = {}): Redis {
    const client = new Redis({ port: this.port, host: '127.0.0.1', ...options });
    client.on('error', () => {});
    return client;
  }
}
