// `backoff-ts --max-tries 1` driven side by side with GNU `timeout` (coreutils), the supervisor it
// stands beside: the same commands, the same signals at the same moments, the same exit status as
// a shell reports it (128 + n for a death by signal n). Beyond the status, backoff-ts leaves no
// process behind in any case; where GNU `timeout` does, the case says so — the deliberate
// differences listed in docs/cli.md.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftBehind, newMark } from '../processes.js';

const BIN = join(import.meta.dirname, '..', '..', 'dist', 'bin.js');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backoff-timeout-'));
  await writeFile(join(dir, 'not-executable'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  /** `--timeout` / GNU's duration, in seconds; none: GNU's `0`. */
  readonly timeout?: string;
  readonly killAfter?: string;
  /** A shell script: it writes its PID to $PIDFILE first when a signal is to be sent. */
  readonly script?: string;
  /** Or a command run as it is. */
  readonly command?: readonly string[];
  /** The signal sent to the supervisor, `delay` ms after the command wrote its PID. */
  readonly send?: NodeJS.Signals;
  readonly delay?: number;
  readonly status: number;
  /** Does GNU `timeout` leave a process of the command's running? (backoff-ts never does.) */
  readonly gnuLeaves?: boolean;
}

const started = 'echo $$ > "$PIDFILE";';
const CASES: Record<string, Case> = {
  'exit 0': { script: 'exit 0', status: 0 },
  'exit 1': { script: 'exit 1', status: 1 },
  'exit 126': { script: 'exit 126', status: 126 },
  'exit 127': { script: 'exit 127', status: 127 },
  'a command not found': { command: ['/nonexistent/command'], status: 127 },
  'a command not executable': { command: ['<dir>/not-executable'], status: 126 },
  'killed by TERM': { script: 'kill -TERM $$', status: 143 },
  'killed by KILL': { script: 'kill -KILL $$', status: 137 },
  'killed by SEGV': { script: 'kill -SEGV $$', status: 139 },
  'killed by ABRT': { script: 'kill -ABRT $$', status: 134 },
  '--timeout: a command that stops on TERM': {
    timeout: '0.3',
    script: 'exec sleep 30',
    status: 124,
  },
  '--timeout: a command that traps TERM and exits 5': {
    timeout: '0.3',
    script: "trap 'exit 5' TERM; while :; do sleep 0.05; done",
    status: 124,
  },
  '--timeout without --kill-after: a command that ignores TERM runs to its end': {
    timeout: '0.3',
    script: "trap '' TERM; sleep 1",
    status: 124,
  },
  '--timeout with --kill-after: a command that ignores TERM is killed': {
    timeout: '0.3',
    killAfter: '0.3',
    script: "trap '' TERM; sleep 30",
    status: 137,
  },
  'TERM to the supervisor while the command runs': {
    script: `${started} exec sleep 30`,
    send: 'SIGTERM',
    status: 143,
  },
  'INT to the supervisor while the command runs': {
    script: `${started} exec sleep 30`,
    send: 'SIGINT',
    status: 130,
  },
  'HUP to the supervisor while the command runs': {
    script: `${started} exec sleep 30`,
    send: 'SIGHUP',
    status: 129,
  },
  'QUIT to the supervisor while the command runs': {
    script: `${started} exec sleep 30`,
    send: 'SIGQUIT',
    status: 131,
  },
  'TERM to the supervisor, the command traps it and exits 3': {
    script: `trap 'exit 3' TERM; ${started} while :; do sleep 0.05; done`,
    send: 'SIGTERM',
    status: 3,
  },
  'TERM to the supervisor, the command ignores it: killed after --kill-after': {
    killAfter: '0.5',
    script: `trap '' TERM; ${started} while :; do sleep 0.05; done`,
    send: 'SIGTERM',
    status: 137,
  },
  'TERM to the supervisor while it waits out --kill-after after --timeout': {
    timeout: '0.3',
    killAfter: '1.5',
    script: `trap '' TERM; ${started} while :; do sleep 0.05; done`,
    send: 'SIGTERM',
    delay: 700,
    status: 137,
  },
  // The differences: GNU timeout leaves these running; backoff-ts does not.
  'USR1 to the supervisor: backoff-ts forwards it, GNU timeout dies of it': {
    script: `${started} exec sleep 30`,
    send: 'SIGUSR1',
    status: 138,
    gnuLeaves: true,
  },
  'TERM to the supervisor: a group member that ignores it outlives its leader': {
    killAfter: '0.5',
    script: `(trap '' TERM; exec sleep 30) & ${started} wait`,
    send: 'SIGTERM',
    status: 143,
    gnuLeaves: true,
  },
};

interface Seen {
  readonly status: number;
  /** The command's processes still running once the supervisor has exited. */
  readonly left: readonly string[];
}

/** Runs a supervisor (GNU `timeout` or the bin) on the case; the status as a shell reports it. */
async function supervise(which: 'gnu' | 'ours', name: string, c: Case): Promise<Seen> {
  const pidFile = join(dir, `${which}-${name.replace(/\W+/g, '-')}.pid`);
  const command = (c.command ?? ['sh', '-c', c.script ?? '']).map((word) =>
    word.replace('<dir>', dir),
  );
  const argv =
    which === 'gnu'
      ? [...(c.killAfter === undefined ? [] : ['-k', c.killAfter]), c.timeout ?? '0', ...command]
      : [
          BIN,
          ...['--max-tries', '1'],
          ...(c.timeout === undefined ? [] : ['--timeout', c.timeout]),
          ...(c.killAfter === undefined ? [] : ['--kill-after', c.killAfter]),
          '--',
          ...command,
        ];
  const { mark, env } = newMark();
  const child = spawn(which === 'gnu' ? 'timeout' : process.execPath, argv, {
    env: { ...env, PIDFILE: pidFile },
    stdio: 'ignore',
  });
  const exited = new Promise<Seen['status']>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])),
    ),
  );
  if (c.send !== undefined) {
    while ((await readFile(pidFile, 'utf8').catch(() => '')).trim() === '') {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, c.delay ?? 50));
    child.kill(c.send);
  }
  const status = await exited;
  // A short grace: a process killed a moment ago may not be reaped yet.
  return { status, left: await leftBehind(mark, 300) };
}

describe('backoff-ts --max-tries 1 beside GNU timeout: the same exit status', () => {
  it.each(Object.entries(CASES))('%s', async (name, c) => {
    const [gnu, ours] = await Promise.all([supervise('gnu', name, c), supervise('ours', name, c)]);
    expect({ gnu: gnu.status, ours: ours.status }).toEqual({ gnu: c.status, ours: c.status });
    expect(ours.left).toEqual([]);
    expect(gnu.left.length > 0).toBe(c.gnuLeaves === true);
  });
});
