/// <reference types="node" />
/**
 * One run of the command: spawned in a process group of its own, its output passed through byte for
 * byte and matched as it streams by, stopped with SIGTERM and then SIGKILL.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { type Clock, systemClock } from '../base/clock.js';

/** A run stopped by `--timeout` counts as exit 124, as GNU `timeout`'s does. */
export const TIMED_OUT = 124;

/**
 * The output kept for matching `--until` / `--while`: the last 64 KiB of text, so that memory stays
 * bounded whatever the output's size (a match must lie within it).
 */
const MATCH_WINDOW = 64 * 1024;

/**
 * A command that cannot be run: one line on stderr, and the shell's exit code for it — 127 when it
 * is not found, 126 when it is found but cannot be executed (as GNU `timeout` and `sh` report them).
 */
export class CannotRun extends Error {
  override name = 'CannotRun';
  /** 127: not found; 126: found but not executable. */
  readonly code: 126 | 127;
  constructor(message: string, code: 126 | 127 = 127) {
    super(message);
    this.code = code;
  }
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
  /**
   * Passes the command's output on. A returned promise holds the output (and so the command, once
   * the pipe fills) until it settles: backpressure from a slow reader.
   */
  readonly write: (chunk: Uint8Array) => void | PromiseLike<void>;
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
  /** The pattern, global so that a search can start past the window's first character. */
  readonly #pattern: RegExp;
  readonly #decoder = new TextDecoder();
  #window = '';
  /** Does the window start inside a line (after a cut), where `^` must not match? */
  #midLine = false;
  matched = false;
  constructor(pattern: RegExp) {
    this.#pattern = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
  }
  push(chunk: Uint8Array): void {
    if (this.matched) return;
    const text = this.#window + this.#decoder.decode(chunk, { stream: true });
    this.matched = this.#search(text);
    // Keep the last MATCH_WINDOW characters, cut anywhere: a match within them is still found.
    const cut = text.length - MATCH_WINDOW;
    if (cut <= 0) this.#window = text;
    else {
      this.#window = text.slice(cut);
      this.#midLine = !LINE_END.test(text.charAt(cut - 1));
    }
  }
  /**
   * Searches the text; where it starts inside a line, a match at its first character is skipped:
   * that is where `^` would match though no line starts there, and any other match there lay
   * within the previous window and was looked for already.
   */
  #search(text: string): boolean {
    const pattern = this.#pattern;
    pattern.lastIndex = 0;
    const found = pattern.exec(text);
    if (found === null) return false;
    if (found.index > 0 || !this.#midLine) return true;
    pattern.lastIndex = 1;
    return pattern.test(text);
  }
}

/** The characters after which `^` matches in a multiline pattern. */
const LINE_END = /[\n\r\u2028\u2029]/;

/**
 * Runs the command once, passing standard input, output and error through (the output byte for
 * byte). Stopping sends SIGTERM to the command's process group, then SIGKILL after the grace; the
 * promise settles once the command has exited — not when its output pipe closes, which a
 * background job it started may hold open for long after.
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
    const output = child.stdout;
    /** The write a slow reader has not taken yet, while reading is paused for it. */
    let held: PromiseLike<void> | undefined;
    output?.on('data', (chunk: Buffer) => {
      matcher?.push(chunk);
      const written = write(chunk);
      if (written === undefined) return;
      // A slow reader: read no more until it has taken this, so the command waits on a full
      // pipe instead of the tool holding its output in memory.
      output.pause();
      held = written;
      const resume = (): void => {
        held = undefined;
        output.resume();
      };
      written.then(resume, resume);
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
    /** The signal the tool got, when the command was sent SIGTERM in its stead (SIGINT, SIGPIPE). */
    let standIn: NodeJS.Signals | undefined;
    const terminate = (): void => {
      if (cancelKill !== undefined) return;
      const reason: unknown = stop.reason;
      if (FORWARDED.has(reason)) send(reason as NodeJS.Signals);
      else {
        if (!timedOut && typeof reason === 'string' && reason in constants.signals) {
          standIn = reason as NodeJS.Signals;
        }
        send('SIGTERM');
      }
      cancelKill = timer(killAfter, () => {
        killed = true;
        send('SIGKILL');
      });
    };
    const onKill = (): void => {
      killed = true;
      send('SIGKILL');
    };
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
        if (!killed && pid !== undefined && groupAlive(pid)) timer(GROUP_POLL, look);
        else cancelKill?.();
      };
      if (group && cancelKill !== undefined) look();
      else cancelKill?.();
    };
    let settled = false;
    child.once('error', (error) => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(cannotRun(command, error));
    });
    child.once('exit', (status, signal) => {
      settled = true;
      cleanUp();
      const code = exitCode(status, signal, { timedOut, killed, standIn });
      if (output === null) {
        resolve({ code, matched: false });
        return;
      }
      // What the command wrote before it exited is in the pipe already: a turn of the event loop
      // while reading reads it (two, to be sure), unless the pipe closes first. What a background
      // job writes later still passes through while the tool runs, but no longer holds it.
      let turns = 2;
      const done = (): void => {
        if (turns < 0) return;
        turns = -1;
        (output as Socket).unref();
        resolve({ code, matched: matcher?.matched ?? false });
      };
      output.once('end', done);
      const turn = (): void => {
        if (turns < 0) return;
        if (held !== undefined) {
          held.then(() => setImmediate(turn));
          return;
        }
        turns -= 1;
        if (turns === 0) done();
        else setImmediate(turn);
      };
      setImmediate(turn);
    });
  });
}

/**
 * A run's exit code as a shell reports it, and as GNU `timeout` does: 128 + the number of the
 * signal that killed it (137 when the grace ran out and SIGKILL was sent, also after --timeout);
 * 124 when --timeout stopped it otherwise; 128 + the tool's own signal when the command died of the
 * SIGTERM sent in its stead.
 */
function exitCode(
  code: number | null,
  signal: NodeJS.Signals | null,
  run: { timedOut: boolean; killed: boolean; standIn: NodeJS.Signals | undefined },
): number {
  if (run.killed && signal === 'SIGKILL') return 128 + constants.signals.SIGKILL;
  if (run.timedOut) return TIMED_OUT;
  if (signal === null) return code ?? 0;
  const as = signal === 'SIGTERM' && run.standIn !== undefined ? run.standIn : signal;
  return 128 + (constants.signals[as] ?? 0);
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
  const quoted = shellQuote(command);
  if (code === 'EACCES') return new CannotRun(`cannot run ${quoted}: permission denied`, 126);
  // Deno without --allow-run / --allow-env: NotCapable, with its own message.
  const why = code === 'ENOENT' ? 'command not found' : String(message);
  return new CannotRun(`cannot run ${quoted}: ${why}`);
}

/** Quotes an argument as a POSIX shell would need it, so that a logged command can be pasted back. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
