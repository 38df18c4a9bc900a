/// <reference types="node" />
/**
 * The command-line tool: `backoff-ts [options] -- command [args...]` runs a command and retries it
 * with backoff. Node only (it spawns processes); the library core does not import it.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { onPredicate } from './decorator.js';
import { equalJitter, fullJitter, randomJitter } from './jitter.js';
import type { CallDetails, WithReason, WithValue, WithWait } from './types.js';
import { constant, decay, expo, fibo } from './wait-gen.js';

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
const TIMED_OUT = 124;
const NOT_FOUND = 127;
/** Giving up on `--until` / `--while` after a last run that exited 0: the condition was not met. */
const CONDITION_NOT_MET = 1;

/**
 * The output kept for matching `--until` / `--while`: the last 64 KiB of text, so that memory stays
 * bounded whatever the output's size (a match must lie within it).
 */
const MATCH_WINDOW = 64 * 1024;

const HELP = `Usage: backoff-ts [options] -- command [args...]

Runs the command and retries it with backoff while it fails. Durations are seconds.

When to retry (default: while the command exits non-zero):
  --on-exit CODES       retry only on these exit codes, comma-separated (e.g. 1,75)
  --until REGEX         retry until standard output matches REGEX
  --while REGEX         retry while standard output matches REGEX

Limits:
  --max-tries N         total runs of the command, counting the first (default: unlimited)
  --max-time SECONDS    no new run after this many seconds (default: unlimited)
  --timeout SECONDS     stop a run still going after this long: a failed run, exit 124, retried
  --kill-at-max-time    also stop the run in flight when --max-time passes
  --kill-after SECONDS  after SIGTERM, the grace before SIGKILL (default 10)
  --foreground          run the command in the tool's process group (for commands that need the
                        terminal); only the command itself is then signalled, not its children

Waits:
  --wait NAME           expo (default), fibo, constant or decay
  --base N              expo: growth per wait (default 2)
  --factor SECONDS      expo: the first wait (default 1)
  --max-value SECONDS   expo, fibo: the longest wait
  --interval SECONDS    constant: the wait (default 1)
  --initial-value S     decay: the first wait (default 1)
  --decay-factor N      decay: the decay rate (default 1)
  --min-value SECONDS   decay: the shortest wait (default 0)
  --jitter NAME         full (default), equal, random or none

Output:
  --quiet               no "Backing off" / "Giving up" lines
  --verbose             add elapsed times to them
  -h, --help            show this help
  --version             show the version

Standard input, output and error pass through to the command, byte for byte. The command runs in
a process group of its own: Ctrl-C or SIGTERM stops the wait and sends SIGTERM to the whole group,
then SIGKILL after --kill-after seconds; a second Ctrl-C or SIGTERM sends SIGKILL at once. The tool
never exits before the command has.

Exit status: 0 when the command succeeds; on giving up, the command's last exit code (128 + N when
signal N killed it), or 124 when --max-time ran out, or 1 when --until / --while gave up after a
run that exited 0; 2 for a bad option; 127 when the command cannot be run; 130 / 143 when
interrupted by SIGINT / SIGTERM. A run stopped by --timeout counts as exit 124 and is retried.

Examples:
  backoff-ts --max-tries 5 -- curl -fsS http://localhost:8080/health
  backoff-ts --wait constant --interval 2 --jitter none --max-time 60 --until ready -- ./status.sh
`;

const OPTIONS = {
  'on-exit': { type: 'string' },
  until: { type: 'string' },
  while: { type: 'string' },
  'max-tries': { type: 'string' },
  'max-time': { type: 'string' },
  timeout: { type: 'string' },
  'kill-at-max-time': { type: 'boolean' },
  'kill-after': { type: 'string' },
  foreground: { type: 'boolean' },
  wait: { type: 'string' },
  base: { type: 'string' },
  factor: { type: 'string' },
  'max-value': { type: 'string' },
  interval: { type: 'string' },
  'initial-value': { type: 'string' },
  'decay-factor': { type: 'string' },
  'min-value': { type: 'string' },
  jitter: { type: 'string' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

const WAITS = { expo, fibo, constant, decay } as const;

/**
 * Splits the arguments at the command: after `--`, or at the first word that is neither an option
 * nor an option's value — options stop there, as with `timeout`, `nice` and `env`. So
 * `backoff-ts --max-tries 3 curl -f url` needs no `--`, and an option of the command (`sh -c`) is
 * never taken for the tool's. Bun drops a `--` that comes first (`bun backoff-ts -- sh -c …` hands
 * the script `sh -c …`), which this reads the same way.
 */
function splitAtCommand(argv: readonly string[]): [options: string[], command: string[]] {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === '--') return [argv.slice(0, index), argv.slice(index + 1)];
    if (!arg.startsWith('-') || arg === '-') return [argv.slice(0, index), argv.slice(index)];
    const name = arg.slice(2);
    // A value-taking option given as `--name value` (not `--name=value`): its value is next.
    if (
      arg.startsWith('--') &&
      (OPTIONS as Record<string, { type: string }>)[name]?.type === 'string'
    ) {
      index += 1;
    }
  }
  return [[...argv], []];
}
const JITTERS = { full: fullJitter, equal: equalJitter, random: randomJitter, none: null } as const;

/** The wait options each generator takes, by flag. */
const WAIT_FLAGS: Readonly<Record<keyof typeof WAITS, Readonly<Record<string, string>>>> = {
  expo: { base: 'base', factor: 'factor', 'max-value': 'maxValue' },
  fibo: { 'max-value': 'maxValue' },
  constant: { interval: 'interval' },
  decay: {
    'initial-value': 'initialValue',
    'decay-factor': 'decayFactor',
    'min-value': 'minValue',
  },
};

/** A bad flag or value: one line on stderr, exit code 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that cannot be run: one line on stderr, exit code 127. */
class CannotRun extends Error {
  override name = 'CannotRun';
}

/** What one run of the command ended with. */
interface Outcome {
  /** The exit code (128 + the signal number when a signal killed it; 124 when --timeout stopped it). */
  readonly code: number;
  /** Did the output match the `--until` / `--while` pattern? */
  readonly matched: boolean;
}

/** A decimal number (`0x10`, `1_000` and `''` are not), or `Infinity`. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?Infinity$/;

function number(flag: string, text: string): number {
  if (!DECIMAL.test(text.trim())) {
    throw new UsageError(`--${flag}: expected a decimal number, got "${text}"`);
  }
  return Number(text);
}

/** Quotes an argument as a POSIX shell would need it, so that a logged command can be pasted back. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function regex(flag: string, text: string): RegExp {
  try {
    return new RegExp(text, 'm');
  } catch (error) {
    throw new UsageError(`--${flag}: not a valid regular expression: ${(error as Error).message}`);
  }
}

function exitCodes(text: string): Set<number> {
  const codes = text.split(',').map((part) => {
    const code = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(code) || code < 1 || code > 255) {
      throw new UsageError(
        `--on-exit: expected exit codes 1-255 separated by commas, got "${text}"`,
      );
    }
    return code;
  });
  return new Set(codes);
}

/** How one run of the command is made and stopped. */
interface RunOptions {
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
function runOnce(command: string, args: readonly string[], options: RunOptions): Promise<Outcome> {
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
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const terminate = (): void => {
      if (killTimer !== undefined) return;
      send('SIGTERM');
      killTimer = setTimeout(() => send('SIGKILL'), killAfter * 1000);
    };
    const onKill = (): void => send('SIGKILL');
    const timer = Number.isFinite(timeout)
      ? setTimeout(() => {
          timedOut = true;
          terminate();
        }, timeout * 1000)
      : undefined;
    stop.addEventListener('abort', terminate);
    kill?.addEventListener('abort', onKill);
    if (stop.aborted) terminate();
    if (kill?.aborted) onKill();
    const cleanUp = (): void => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      stop.removeEventListener('abort', terminate);
      kill?.removeEventListener('abort', onKill);
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
    if (interrupted.aborted) return interrupted.reason === 'SIGTERM' ? 143 : 130;
    if (!(error instanceof CannotRun)) throw error;
    stderr(`backoff-ts: ${error.message}\n`);
    return NOT_FOUND;
  }
}

/** Why a command could not be started, in one line. */
function cannotRun(command: string, error: unknown): CannotRun {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const why =
    code === 'ENOENT'
      ? 'command not found'
      : code === 'EACCES'
        ? 'permission denied'
        : String(message); // Deno without --allow-run / --allow-env: NotCapable
  return new CannotRun(`cannot run ${shellQuote(command)}: ${why}`);
}

/** Library errors name the option in camelCase; say the flag instead. */
function describeOptionError(error: unknown): string {
  if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
  return error.message.replace(
    /`(\w+)`/g,
    (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  );
}

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

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
  const call = onPredicate(
    WAITS[waitName as keyof typeof WAITS],
    retry as (value: unknown) => boolean,
    {
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
    } as never,
  )(() =>
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

/** The package version, read only for `--version` (so that Deno needs no read permission otherwise). */
const version = (): string =>
  (createRequire(import.meta.url)('../package.json') as { version: string }).version;
