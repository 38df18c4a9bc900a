/// <reference types="node" />
/**
 * The command-line tool: `backoff-ts [options] -- command [args...]` runs a command and retries it
 * with backoff. Node only (it spawns processes); the library core does not import it. This file
 * wires the words (parse.ts) to the runs (run.ts) through the library's `onPredicate`.
 *
 * @module
 */

import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import type { Clock } from '../base/clock.js';
import { systemClock } from '../base/clock.js';
import { wrapAsync } from '../engine/drivers.js';
import { makePlan } from '../plan/options.js';
import type { CallDetails, WithReason, WithValue, WithWait } from '../types.js';
import {
  describeOptionError,
  exitCodes,
  HELP,
  JITTERS,
  number,
  OPTIONS,
  regex,
  splitAtCommand,
  UsageError,
  type Values,
  version,
  WAIT_FLAGS,
  WAITS,
} from './parse.js';
import { CannotRun, type Outcome, runOnce, shellQuote, TIMED_OUT } from './run.js';

/** Where the tool reads time, writes and listens for Ctrl-C; tests pass their own. */
export interface CliIo {
  /** The clock for waits (a `VirtualClock` in tests). */
  readonly clock?: Clock;
  /**
   * Writes to standard output: the tool's own text, and the command's output byte for byte with
   * `--until`/`--while`. A returned promise holds the command's output until it settles.
   */
  readonly stdout?: Write;
  /** Writes to standard error (the tool's own lines). */
  readonly stderr?: (text: string) => void;
  /** Aborts the wait and stops the command (SIGTERM, then SIGKILL after the grace), as Ctrl-C / SIGTERM do. */
  readonly signal?: AbortSignal;
  /** Kills the command at once (SIGKILL), as a second Ctrl-C / SIGTERM does. */
  readonly kill?: AbortSignal;
}

/** Writes a chunk; a returned promise says "wait for me before the next" (backpressure). */
type Write = (chunk: string | Uint8Array) => void | PromiseLike<void>;

/** Exit codes of the tool itself. */
const USAGE = 2;
/** Giving up on `--until` / `--while` after a last run that exited 0: the condition was not met. */
const CONDITION_NOT_MET = 1;

/**
 * Runs the tool with the arguments after `node backoff-ts`; resolves to the exit code.
 *
 * @param argv - the arguments, e.g. `['--max-tries', '3', '--', 'curl', url]`
 * @param io - clock, output and interrupt signal; the defaults are the process's own
 * @returns the exit code
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stderr = io.stderr ?? ((text) => process.stderr.write(text));
  // Standard output closed by its reader (`| head -1`) stops the command as SIGPIPE would.
  const broken = new AbortController();
  const stdout = io.stdout ?? streamWriter(process.stdout, broken);
  try {
    return await runTool(
      argv,
      { ...io, signal: anySignal(io.signal, broken.signal) },
      stdout,
      stderr,
    );
  } finally {
    broken.abort(); // detaches the writer from process.stdout
  }
}

/** The tool itself, once its output is set up: parses, runs, retries; resolves to the exit code. */
async function runTool(
  argv: readonly string[],
  io: CliIo,
  stdout: Write,
  stderr: (text: string) => void,
): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  const [options, command] = splitAtCommand(argv);
  try {
    parsed = parseArgs({ args: options, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // One line: parseArgs explains over several.
    stderr(`backoff-ts: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')} (see --help)\n`);
    return USAGE;
  }
  const { values } = parsed;
  const positionals = command;
  if (values.help) {
    await stdout(HELP);
    return 0;
  }
  if (values.version) {
    await stdout(`${version()}\n`);
    return 0;
  }

  let retrying: ReturnType<typeof build>;
  try {
    retrying = build(values, positionals, io, stdout, stderr);
  } catch (error) {
    if (error instanceof CannotRun) {
      stderr(`backoff-ts: ${error.message}\n`);
      return error.code;
    }
    const message = error instanceof UsageError ? error.message : describeOptionError(error);
    stderr(`backoff-ts: ${message} (see --help)\n`);
    return USAGE;
  }

  const { call, interrupted, stopped } = retrying;
  try {
    const outcome = await call();
    if (retrying.gaveUpOnTime()) return TIMED_OUT;
    // Giving up on the output condition is a failure, whatever the last run's exit code.
    if (retrying.gaveUp() && retrying.matchesOutput && outcome.code === 0) return CONDITION_NOT_MET;
    return outcome.code;
  } catch (error) {
    // Interrupted while the command ran: as GNU `timeout`, the command's own status. During a
    // wait: 128 + the signal's number, as a shell reports a death by it (130 for anything else).
    if (interrupted.aborted) {
      return stopped()?.code ?? 128 + (constants.signals[interrupted.reason as 'SIGINT'] ?? 2);
    }
    if (!(error instanceof CannotRun)) throw error;
    stderr(`backoff-ts: ${error.message}\n`);
    return error.code;
  }
}

function build(
  values: Values,
  positionals: readonly string[],
  io: CliIo,
  stdout: Write,
  stderr: (text: string) => void,
) {
  const [command, ...args] = positionals;
  if (command === undefined)
    throw new UsageError('no command given: backoff-ts [options] -- command [args...]');
  if (command === '') throw new CannotRun(`cannot run '': the command is empty`);
  if (values.until !== undefined && values.while !== undefined) {
    throw new UsageError('--until and --while exclude each other');
  }
  const waitName = values.wait ?? 'expo';
  if (!Object.hasOwn(WAITS, waitName)) {
    throw new UsageError(`--wait: expected expo, fibo, constant or decay, got "${waitName}"`);
  }
  const jitterName = values.jitter ?? 'full';
  if (!Object.hasOwn(JITTERS, jitterName)) {
    throw new UsageError(`--jitter: expected full, equal, random or none, got "${jitterName}"`);
  }
  const waitOptions: Record<string, number> = {};
  for (const [flag, option] of Object.entries(WAIT_FLAGS[waitName as keyof typeof WAITS])) {
    const text = values[flag as keyof Values];
    if (typeof text === 'string') waitOptions[option] = number(flag, text);
  }
  for (const flag of Object.values(WAIT_FLAGS).flatMap(Object.keys)) {
    if (
      values[flag as keyof Values] !== undefined &&
      !(flag in WAIT_FLAGS[waitName as keyof typeof WAITS])
    ) {
      throw new UsageError(`--${flag} is not an option of --wait ${waitName}`);
    }
  }
  const retryOn = values['on-exit'] === undefined ? undefined : exitCodes(values['on-exit']);
  const until = values.until === undefined ? undefined : regex('until', values.until);
  const whilePattern = values.while === undefined ? undefined : regex('while', values.while);
  const seconds = (flag: 'timeout' | 'kill-after', fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const value = number(flag, text);
    if (!(value > 0)) throw new UsageError(`--${flag}: expected seconds > 0, got "${text}"`);
    return value;
  };
  const timeout = seconds('timeout', Number.POSITIVE_INFINITY);
  const killAfter = seconds('kill-after', 10);
  const maxTime =
    values['max-time'] === undefined ? undefined : number('max-time', values['max-time']);
  const clock = io.clock ?? systemClock;
  const start = clock.now();

  // Ctrl-C / SIGTERM (or the test's signal) abort the wait and the command.
  const interrupter = new AbortController();
  io.signal?.addEventListener('abort', () => interrupter.abort(io.signal?.reason), { once: true });
  const shown = [command, ...args].map(shellQuote).join(' ');
  const verbose = values.verbose === true;
  const elapsed = (d: CallDetails) => (verbose ? `, elapsed ${d.elapsed.toFixed(1)}s` : '');
  const exitOf = (d: WithValue) => `exit ${(d.value as Outcome).code}`;
  let reason: WithReason['reason'] | undefined;

  const retry = (outcome: Outcome): boolean => {
    if (until !== undefined) return !outcome.matched;
    if (whilePattern !== undefined) return outcome.matched;
    return retryOn === undefined ? outcome.code !== 0 : retryOn.has(outcome.code);
  };
  /** This run's time limit: --timeout, and with --kill-at-max-time what is left of --max-time. */
  const runTimeout = (): number =>
    values['kill-at-max-time'] === true && maxTime !== undefined
      ? Math.min(timeout, Math.max(0, maxTime - (clock.now() - start)))
      : timeout;
  const quiet = values.quiet === true;
  // The async twin's loop, through the engine's seam, as onPredicate would make it.
  const plan = makePlan({
    api: 'backoff-ts',
    wait: WAITS[waitName as keyof typeof WAITS],
    catches: () => false,
    predicate: retry,
    options: {
      ...waitOptions,
      maxTries:
        values['max-tries'] === undefined ? undefined : number('max-tries', values['max-tries']),
      maxTime,
      jitter: JITTERS[jitterName as keyof typeof JITTERS],
      clock,
      signal: interrupter.signal,
      logger: null,
      onBackoff: (d: CallDetails & WithValue & WithWait) => {
        if (!quiet)
          stderr(`Backing off ${shown} for ${d.wait.toFixed(1)}s (${exitOf(d)}${elapsed(d)})\n`);
      },
      onGiveup: (d: CallDetails & WithValue & WithReason) => {
        reason = d.reason;
        if (quiet || d.reason === 'aborted') return;
        const why = d.reason === 'maxTime' ? ', --max-time ran out' : '';
        stderr(`Giving up ${shown} after ${d.tries} tries${why} (${exitOf(d)}${elapsed(d)})\n`);
      },
    },
    sync: false,
    clock: systemClock,
    blockForm: false,
  });
  /** The run the interrupt stopped, once it has exited. */
  let stopped: Outcome | undefined;
  const call = wrapAsync(plan, async () => {
    const outcome = await runOnce(command, args, {
      pattern: until ?? whilePattern,
      write: stdout,
      stop: interrupter.signal,
      kill: io.kill,
      timeout: runTimeout(),
      killAfter,
      group: values.foreground !== true,
    });
    if (interrupter.signal.aborted) stopped = outcome;
    return outcome;
  }) as () => Promise<Outcome>;
  return {
    call,
    interrupted: interrupter.signal,
    stopped: () => stopped,
    matchesOutput: until !== undefined || whilePattern !== undefined,
    gaveUp: () => reason !== undefined,
    gaveUpOnTime: () => reason === 'maxTime',
  };
}

/**
 * Writes to a stream, answering a full buffer with a promise of its `drain`. An error (EPIPE: the
 * reader is gone) aborts `broken` with `'SIGPIPE'`; later chunks are dropped.
 */
function streamWriter(stream: NodeJS.WriteStream, broken: AbortController): Write {
  const onError = (): void => broken.abort('SIGPIPE');
  stream.on('error', onError);
  broken.signal.addEventListener('abort', () => stream.off('error', onError), { once: true });
  return (chunk) => {
    if (broken.signal.aborted || stream.write(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        broken.signal.removeEventListener('abort', done);
        resolve();
      };
      stream.on('drain', done);
      broken.signal.addEventListener('abort', done);
    });
  };
}

/** A signal that aborts when either does, with its reason. */
function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a === undefined ? b : AbortSignal.any([a, b]);
}
