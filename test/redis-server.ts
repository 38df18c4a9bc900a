// A throwaway redis-server on a free loopback port, for the tests that need a real one. When
// CI is set and redis-server is missing, the tests fail rather than skip.
import { type ChildProcess, execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedis } from './fixtures/redis-process.mjs';

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
const execFileAsync = promisify(execFile);
/** Run the Redis tests here? Always under CI (where a missing server is a failure). */
export const redisWanted = redisBinary !== undefined || process.env.CI !== undefined;

export { freePort };

export class RedisServer {
  port = 0;
  #process: ChildProcess | undefined;
  /** More arguments for redis-server (cluster mode, say). */
  readonly #args: readonly string[];

  constructor(args: readonly string[] = []) {
    this.#args = args;
  }

  async start(): Promise<void> {
    if (redisBinary === undefined) {
      throw new Error(
        'redis-server is not installed (CI is set: .ci/run installs it with apt-get)',
      );
    }
    if (this.port === 0) this.port = await freePort();
    this.#process = await startRedis(this.port, this.#args, redisBinary);
  }

  /** Is the server process running? */
  get running(): boolean {
    return (
      this.#process !== undefined &&
      this.#process.exitCode === null &&
      this.#process.signalCode === null
    );
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (child === undefined || !this.running) return;
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

/**
 * A Redis Cluster on loopback: three masters and a replica each, made with `redis-cli --cluster
 * create`, in a throwaway directory (each node writes its nodes.conf there).
 */
export class RedisCluster {
  readonly nodes: RedisServer[] = [];
  #dir = '';

  async start(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'backoff-redis-cluster-'));
    for (let i = 0; i < 6; i++) {
      const port = await freePort();
      const node = new RedisServer([
        ...['--cluster-enabled', 'yes', '--cluster-node-timeout', '1000'],
        // A replica may take over however long ago it last heard from its master.
        ...['--cluster-replica-validity-factor', '0'],
        ...['--cluster-config-file', join(this.#dir, `nodes-${port}.conf`), '--dir', this.#dir],
      ]);
      node.port = port;
      this.nodes.push(node);
    }
    await Promise.all(this.nodes.map((node) => node.start()));
    await cli([
      '--cluster',
      'create',
      ...this.nodes.map((node) => `127.0.0.1:${node.port}`),
      ...['--cluster-replicas', '1', '--cluster-yes'],
    ]);
    await this.settled();
  }

  /**
   * Waits until every live node says the cluster is ok — and, given a key, until a live master
   * serves its slot (after a failover).
   */
  async settled(key?: string): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        const states = await Promise.all(
          this.live().map((node) => cli(['-p', String(node.port), 'cluster', 'info'])),
        );
        const ok = states.every((info) => info.includes('cluster_state:ok'));
        if (ok && (key === undefined || (await this.masterOf(key)).running)) return;
      } catch (error) {
        if (i > 300) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  live(): RedisServer[] {
    return this.nodes.filter((node) => node.running);
  }

  /** The node that serves `key` now, as CLUSTER NODES on a live node says. */
  async masterOf(key: string): Promise<RedisServer> {
    const port = String(this.live()[0]?.port);
    const slot = Number(await cli(['-p', port, 'cluster', 'keyslot', key]));
    for (const line of (await cli(['-p', port, 'cluster', 'nodes'])).split('\n')) {
      const [, address, flags, , , , , , ...ranges] = line.split(' ');
      if (!flags?.includes('master') || flags.includes('fail')) continue;
      const owns = ranges.some((range) => {
        const [from, to = from] = range.split('-').map(Number);
        return slot >= (from as number) && slot <= (to as number);
      });
      const owner = Number(address?.split('@')[0]?.split(':')[1]);
      const node = this.nodes.find((candidate) => candidate.port === owner);
      if (owns && node !== undefined) return node;
    }
    throw new Error(`no master for slot ${slot}`);
  }

  /** The cluster's node id of `node`. */
  async idOf(node: RedisServer): Promise<string> {
    return (await cli(['-p', String(node.port), 'cluster', 'myid'])).trim();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.kill()));
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Runs redis-cli; resolves to its standard output. */
export async function cli(args: readonly string[]): Promise<string> {
  const { stdout } = await execFileAsync('redis-cli', args, { encoding: 'utf8' });
  return stdout;
}
