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
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { wrapAsync } from '../drivers.js';
import { makePlan } from '../options.js';
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
   * `--until`/`--while`.
   */
  readonly stdout?: (chunk: string | Uint8Array) => void;
  /** Writes to standard error (the tool's own lines). */
  readonly stderr?: (text: string) => void;
  /** Aborts the wait and stops the command (SIGTERM, then SIGKILL after the grace), as Ctrl-C / SIGTERM do. */
  readonly signal?: AbortSignal;
  /** Kills the command at once (SIGKILL), as a second Ctrl-C / SIGTERM does. */
  readonly kill?: AbortSignal;
}

/** Exit codes of the tool itself. */
const USAGE = 2;
const NOT_FOUND = 127;
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
  const stdout = io.stdout ?? ((chunk) => process.stdout.write(chunk));
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
    stdout(HELP);
    return 0;
  }
  if (values.version) {
    stdout(`${version()}\n`);
    return 0;
  }

  let retrying: ReturnType<typeof build>;
  try {
    retrying = build(values, positionals, io, stdout, stderr);
  } catch (error) {
    if (error instanceof CannotRun) {
      stderr(`backoff-ts: ${error.message}\n`);
      return NOT_FOUND;
    }
    const message = error instanceof UsageError ? error.message : describeOptionError(error);
    stderr(`backoff-ts: ${message} (see --help)\n`);
    return USAGE;
  }

  const { call, interrupted } = retrying;
  try {
    const outcome = await call();
    if (retrying.gaveUpOnTime()) return TIMED_OUT;
    // Giving up on the output condition is a failure, whatever the last run's exit code.
    if (retrying.gaveUp() && retrying.matchesOutput && outcome.code === 0) return CONDITION_NOT_MET;
    return outcome.code;
  } catch (error) {
    // 128 + the signal's number, as a shell reports a death by it (130 for anything else).
    if (interrupted.aborted) return 128 + (constants.signals[interrupted.reason as 'SIGINT'] ?? 2);
    if (!(error instanceof CannotRun)) throw error;
    stderr(`backoff-ts: ${error.message}\n`);
    return NOT_FOUND;
  }
}

function build(
  values: Values,
  positionals: readonly string[],
  io: CliIo,
  stdout: (chunk: string | Uint8Array) => void,
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
  const call = wrapAsync(plan, () =>
    runOnce(command, args, {
      pattern: until ?? whilePattern,
      write: stdout,
      stop: interrupter.signal,
      kill: io.kill,
      timeout: runTimeout(),
      killAfter,
      group: values.foreground !== true,
    }),
  ) as () => Promise<Outcome>;
  return {
    call,
    interrupted: interrupter.signal,
    matchesOutput: until !== undefined || whilePattern !== undefined,
    gaveUp: () => reason !== undefined,
    gaveUpOnTime: () => reason === 'maxTime',
  };
}
