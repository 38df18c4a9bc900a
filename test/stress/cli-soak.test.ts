// The command-line tool soaked: a flaky command run over a thousand times under --until and
// --timeout, first by one supervisor (its memory sampled as the runs go by), then by hundreds of
// supervisors sent random signals at random moments. Nothing the command started may be left
// running, and nothing but the tool's own lines may reach standard error.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/testing.js';
import { leftBehind, newMark } from '../processes.js';

const BIN = join(import.meta.dirname, '..', '..', 'dist', 'bin.js');
const MEMORY = join(import.meta.dirname, '..', 'fixtures', 'cli-memory.mjs');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backoff-cli-soak-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The tool's own lines; anything else on standard error (a warning, a stack trace) is a defect. */
const OWN_LINE = /^(Backing off|Giving up) /;
const runsIn = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => '')).split('\n').length - 1;

describe('the CLI soaked', () => {
  it('one supervisor, 1,000 runs under --until and --timeout: heap flat, nothing left', async () => {
    const runs = join(dir, 'one.runs');
    // One run in 32 hangs (half of those ignore SIGTERM): --timeout stops it, --kill-after ends it.
    // Counted by run, not by process id, so that the last run (the 1,000th) is one that exits 1.
    const script = [
      `echo run >> "${runs}"; case $(($(wc -l < "${runs}") % 64)) in`,
      "7) exec sleep 30;; 39) trap '' TERM; sleep 30;; *) echo not yet; exit 1;; esac",
    ].join(' ');
    const { mark, env } = newMark();
    const child = spawn(
      process.execPath,
      [
        ...['--expose-gc', MEMORY],
        ...['--until', '^ready$', '--max-tries', '1000', '--timeout', '0.2', '--kill-after', '0.1'],
        ...['--wait', 'constant', '--interval', '0', '--jitter', 'none', '--', 'sh', '-c', script],
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const { code, samples } = JSON.parse(stdout) as {
      code: number;
      samples: { lines: number; heapUsed: number; rss: number }[];
    };
    expect(code).toBe(1); // gave up on --until after a last run that exited 1
    expect(await runsIn(runs)).toBe(1000);
    expect(stderr).toBe(''); // nothing but the tool's lines: no warning, no stack trace
    expect(await leftBehind(mark)).toEqual([]);
    // Heap after a full GC, every 100 runs. One sample can stand a few hundred KiB above its
    // neighbours (CI once measured 4.47 then 4.82 MiB at runs 200 and 1,000; here, samples from
    // run 400 on sit within 60 KiB of each other), so each end is the lowest of three samples.
    const heap = (from: number, to: number) =>
      Math.min(...samples.filter((s) => s.lines >= from && s.lines <= to).map((s) => s.heapUsed));
    const [early, late] = [heap(200, 400), heap(800, 1000)];
    const kib = (bytes: number) => (bytes / 2 ** 10).toFixed(0);
    console.log(
      `one supervisor, heap after GC by run (KiB): ${samples.map((s) => `${s.lines}: ${kib(s.heapUsed)}`).join(', ')}`,
    );
    // Flat: the lowest of runs 800-1,000 within 256 KiB of the lowest of runs 200-400 (measured:
    // about 90 KiB). The ends are 400 to 800 runs apart, so a listener, timer or child kept per
    // run (a few hundred bytes to kilobytes) fails it.
    expect(late - early).toBeLessThan(256 * 2 ** 10);
  }, 240_000);

  it('supervisors sent random signals at random moments: 1,000 runs, nothing left', async () => {
    const random = seededRandom(20261202);
    const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', undefined] as const;
    let total = 0;
    let supervisors = 0;
    const statuses = new Map<number | NodeJS.Signals, number>();
    const soakOne = async (index: number): Promise<void> => {
      const runs = join(dir, `${index}.runs`);
      // Matches (1 in 12); fails; fails after a group member ends; ignores SIGTERM (until
      // SIGKILL); hangs with a group member; exits 0 without a match.
      const script = [
        `echo run >> "${runs}"; case $(($$ % 12)) in`,
        '0) echo ready;; 1|6|7|8|9) exit 1;; 2|10) sleep 0.05 & sleep 0.05; wait; exit 1;;',
        "3) trap '' TERM; sleep 2;; 4) sleep 2 & exec sleep 2;; *) echo noise;; esac",
      ].join(' ');
      const { mark, env } = newMark();
      const child = spawn(
        process.execPath,
        [
          BIN,
          ...['--until', '^ready$', '--max-tries', '6', '--timeout', '0.3', '--kill-after', '0.2'],
          ...['--wait', 'constant', '--interval', '0.01', '--jitter', 'none', '--'],
          ...['sh', '-c', script],
        ],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | NodeJS.Signals>((resolve) =>
        child.once('exit', (code, killedBy) => resolve(code ?? (killedBy as NodeJS.Signals))),
      );
      // A random signal at a random moment once the tool is up (the command's first run began):
      // before it has set its handlers, a signal meets Node's defaults (docs/cli.md).
      const signal = SIGNALS[Math.floor(random() * SIGNALS.length)];
      const delay = random() * 600;
      let timer: NodeJS.Timeout | undefined;
      if (signal !== undefined) {
        const up = async (): Promise<void> => {
          while ((await runsIn(runs)) === 0 && child.exitCode === null) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          timer = setTimeout(() => child.kill(signal), delay);
        };
        void up();
      }
      const code = await exited;
      clearTimeout(timer);
      statuses.set(code, (statuses.get(code) ?? 0) + 1);
      expect(stderr.split('\n').filter((line) => line !== '' && !OWN_LINE.test(line))).toEqual([]);
      expect(await leftBehind(mark)).toEqual([]);
      total += await runsIn(runs);
      supervisors += 1;
    };
    // Three at a time, until the command has run 1,000 times.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (total < 1000) await soakOne(next++);
    };
    await Promise.all([lane(), lane(), lane()]);
    console.log(
      `${supervisors} supervisors, ${total} runs; exit statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(total).toBeGreaterThanOrEqual(1000);
    // The tool exits with a status of its own — except for a signal that arrives as it exits, when
    // Node has put the default handlers back (docs/cli.md): then it dies of that very signal.
    for (const status of statuses.keys()) {
      if (typeof status === 'string') expect(SIGNALS).toContain(status);
    }
  }, 280_000);
});
