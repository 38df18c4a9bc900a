/// <reference types="node" />
/**
 * One run of the command: spawned in a process group of its own, its output passed through byte for
 * byte and matched as it streams by, stopped with SIGTERM and then SIGKILL.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { type Clock, systemClock } from '../clock.js';

/** A run stopped by `--timeout` counts as exit 124, as GNU `timeout`'s does. */
export const TIMED_OUT = 124;

/**
 * The output kept for matching `--until` / `--while`: the last 64 KiB of text, so that memory stays
 * bounded whatever the output's size (a match must lie within it).
 */
const MATCH_WINDOW = 64 * 1024;

/** A command that cannot be run: one line on stderr, exit code 127. */
export class CannotRun extends Error {
  override name = 'CannotRun';
}

/** What one run of the command ended with. */
export interface Outcome {
  /** The exit code (128 + the signal number when a signal killed it; 124 when --timeout stopped it). */
  readonly code: number;
  /** Did the output match the `--until` / `--while` pattern? */
  readonly matched: boolean;
}

/** How one run of the command is made and stopped. */
export interface RunOptions {
  /** `--until` / `--while`: the pattern the output is matched against, as it streams by. */
  readonly pattern: RegExp | undefined;
  readonly write: (chunk: string | Uint8Array) => void;
  /** Stops the run: SIGTERM, then SIGKILL after `killAfter` seconds. */
  readonly stop: AbortSignal;
  /** Kills the run at once. */
  readonly kill: AbortSignal | undefined;
  /** Seconds the run may take before it is stopped and counted as exit 124; Infinity for none. */
  readonly timeout: number;
  readonly killAfter: number;
  /** Run in a process group of its own, signalled as a whole (not `--foreground`). */
  readonly group: boolean;
}

/** Matches a pattern against output as it streams by, keeping a bounded window of it. */
class StreamMatcher {
  readonly #pattern: RegExp;
  readonly #decoder = new TextDecoder();
  #window = '';
  matched = false;
  constructor(pattern: RegExp) {
    this.#pattern = pattern;
  }
  push(chunk: Uint8Array): void {
    if (this.matched) return;
    const text = this.#window + this.#decoder.decode(chunk, { stream: true });
    this.matched = this.#pattern.test(text);
    // Keep the tail, cut at a line start so that `^` never matches in the middle of a line.
    const cut = text.length - MATCH_WINDOW;
    if (cut <= 0) this.#window = text;
    else {
      const line = text.indexOf('\n', cut);
      this.#window = line === -1 ? '' : text.slice(line + 1);
    }
  }
}

/**
 * Runs the command once, passing standard input, output and error through (the output byte for
 * byte). Stopping sends SIGTERM to the command's process group, then SIGKILL after the grace; the
 * promise settles only once the command has exited.
 */
export function runOnce(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<Outcome> {
  const { pattern, write, stop, kill, timeout, killAfter, group } = options;
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, {
        stdio: ['inherit', pattern === undefined ? 'inherit' : 'pipe', 'inherit'],
        detached: group,
      });
    } catch (error) {
      reject(cannotRun(command, error));
      return;
    }
    const matcher = pattern === undefined ? undefined : new StreamMatcher(pattern);
    child.stdout?.on('data', (chunk: Buffer) => {
      write(chunk);
      matcher?.push(chunk);
    });
    const send = (name: NodeJS.Signals): void => {
      try {
        // A negative pid signals the whole process group the command leads.
        if (group && child.pid !== undefined) process.kill(-child.pid, name);
        else child.kill(name);
      } catch {
        // Already gone.
      }
    };
    let timedOut = false;
    let cancelKill: (() => void) | undefined;
    let killed = false;
    const terminate = (): void => {
      if (cancelKill !== undefined) return;
      send(FORWARDED.has(stop.reason) ? (stop.reason as NodeJS.Signals) : 'SIGTERM');
      cancelKill = timer(killAfter, () => {
        killed = true;
        send('SIGKILL');
      });
    };
    const onKill = (): void => send('SIGKILL');
    const cancelTimeout = Number.isFinite(timeout)
      ? timer(timeout, () => {
          timedOut = true;
          terminate();
        })
      : undefined;
    stop.addEventListener('abort', terminate);
    kill?.addEventListener('abort', onKill);
    if (stop.aborted) terminate();
    if (kill?.aborted) onKill();
    const cleanUp = (): void => {
      cancelTimeout?.();
      stop.removeEventListener('abort', terminate);
      kill?.removeEventListener('abort', onKill);
      // Once stopping began, the group gets its grace and then SIGKILL, even when its leader is
      // gone: a member that ignores SIGTERM must not outlive the tool. The grace ends early once
      // the group is empty (looked at every GROUP_POLL seconds).
      const { pid } = child;
      const look = (): void => {
        if (killed) return;
        if (pid !== undefined && groupAlive(pid)) timer(GROUP_POLL, look);
        else cancelKill?.();
      };
      if (group && cancelKill !== undefined) look();
      else cancelKill?.();
    };
    child.once('error', (error) => {
      cleanUp();
      reject(cannotRun(command, error));
    });
    child.once('close', (code, killedBy) => {
      cleanUp();
      // As a shell reports it: 128 + the number of the signal that killed the command.
      const signalled = killedBy === null ? 0 : 128 + (constants.signals[killedBy] ?? 0);
      resolve({
        code: timedOut ? TIMED_OUT : (code ?? signalled),
        matched: matcher?.matched ?? false,
      });
    });
  });
}

/** The signals that reach the command as themselves; SIGINT and SIGTERM send it SIGTERM. */
const FORWARDED: ReadonlySet<unknown> = new Set([
  'SIGHUP',
  'SIGQUIT',
  'SIGALRM',
  'SIGUSR1',
  'SIGUSR2',
]);

/** How often a stopping group is looked at, in seconds, to end its grace once it is empty. */
const GROUP_POLL = 0.05;

/** The system clock's timer: it honours waits past 2^31 - 1 ms, which setTimeout fires at once. */
const timer = systemClock.timer as NonNullable<Clock['timer']>;

/** Is any process of the group `pid` leads still there? (Signal 0 checks, and sends nothing.) */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Why a command could not be started, in one line. */
export function cannotRun(command: string, error: unknown): CannotRun {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const why =
    code === 'ENOENT'
      ? 'command not found'
      : code === 'EACCES'
        ? 'permission denied'
        : String(message); // Deno without --allow-run / --allow-env: NotCapable
  return new CannotRun(`cannot run ${shellQuote(command)}: ${why}`);
}

/** Quotes an argument as a POSIX shell would need it, so that a logged command can be pasted back. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
