/// <reference types="node" />
/**
 * The command-line tool: `backoff-ts [options] -- command [args...]` runs a command and retries it
 * with backoff. Node only (it spawns processes); the library core does not import it.
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
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
  /** Writes to standard output (the command's output passes through here with `--until`/`--while`). */
  readonly stdout?: (text: string) => void;
  /** Writes to standard error (the tool's own lines). */
  readonly stderr?: (text: string) => void;
  /** Aborts the wait and stops the command, as Ctrl-C / SIGTERM do. */
  readonly signal?: AbortSignal;
}

/** Exit codes of the tool itself. */
const USAGE = 2;
const TIMED_OUT = 124;
const NOT_FOUND = 127;

const HELP = `Usage: backoff-ts [options] -- command [args...]

Runs the command and retries it with backoff while it fails. Durations are seconds.

When to retry (default: while the command exits non-zero):
  --on-exit CODES       retry only on these exit codes, comma-separated (e.g. 1,75)
  --until REGEX         retry until standard output matches REGEX
  --while REGEX         retry while standard output matches REGEX

Limits:
  --max-tries N         total runs of the command, counting the first (default: unlimited)
  --max-time SECONDS    no new run after this many seconds (default: unlimited)

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

Standard input, output and error pass through to the command. Ctrl-C or SIGTERM stops both the
wait and the command.

Exit status: 0 when the command succeeds; on giving up, the command's last exit code, or 124 when
--max-time ran out; 2 for a bad option; 127 when the command cannot be run; 130 / 143 when
interrupted by SIGINT / SIGTERM.

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

/** What one run of the command ended with. */
interface Outcome {
  /** The exit code (128 + the signal number when a signal killed it). */
  readonly code: number;
  /** Standard output, kept only when a pattern needs it. */
  readonly stdout: string;
}

function number(flag: string, text: string): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (Number.isNaN(value)) throw new UsageError(`--${flag}: expected a number, got "${text}"`);
  return value;
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

/** Runs the command once, passing stdin/stdout/stderr through; keeps stdout if `keep`. */
function runOnce(
  command: string,
  args: readonly string[],
  keep: boolean,
  write: (text: string) => void,
  signal: AbortSignal,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['inherit', keep ? 'pipe' : 'inherit', 'inherit'],
      signal,
      killSignal: 'SIGTERM',
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      write(chunk);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') return; // the 'close' event reports the signal
      reject(error);
    });
    child.once('close', (code, killedBy) => {
      const signalNumber = killedBy === null ? 0 : (osSignals[killedBy] ?? 0);
      resolve({ code: code ?? 128 + signalNumber, stdout });
    });
  });
}

const osSignals: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
};

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
  const stdout = io.stdout ?? ((text) => process.stdout.write(text));
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // One line: parseArgs explains over several.
    stderr(`backoff-ts: ${(error as Error).message.replace(/\s*\n\s*/g, ' ')} (see --help)\n`);
    return USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout(HELP);
    return 0;
  }
  if (values.version) {
    stdout(`${VERSION}\n`);
    return 0;
  }

  let retrying: ReturnType<typeof build>;
  try {
    retrying = build(values, positionals, io, stdout, stderr);
  } catch (error) {
    const message = error instanceof UsageError ? error.message : describeOptionError(error);
    stderr(`backoff-ts: ${message} (see --help)\n`);
    return USAGE;
  }

  const { call, command, interrupted } = retrying;
  try {
    const outcome = await call();
    return retrying.gaveUpOnTime() ? TIMED_OUT : outcome.code;
  } catch (error) {
    if (interrupted.aborted) return interrupted.reason === 'SIGTERM' ? 143 : 130;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES') {
      stderr(
        `backoff-ts: cannot run ${command}: ${code === 'ENOENT' ? 'command not found' : 'permission denied'}\n`,
      );
      return NOT_FOUND;
    }
    throw error;
  }
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
  stdout: (text: string) => void,
  stderr: (text: string) => void,
) {
  const [command, ...args] = positionals;
  if (command === undefined)
    throw new UsageError('no command given: backoff-ts [options] -- command [args...]');
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
  const keep = until !== undefined || whilePattern !== undefined;

  // Ctrl-C / SIGTERM (or the test's signal) abort the wait and the command.
  const interrupter = new AbortController();
  io.signal?.addEventListener('abort', () => interrupter.abort(io.signal?.reason), { once: true });
  const shown = [command, ...args].join(' ');
  const verbose = values.verbose === true;
  const elapsed = (d: CallDetails) => (verbose ? `, elapsed ${d.elapsed.toFixed(1)}s` : '');
  const exitOf = (d: WithValue) => `exit ${(d.value as Outcome).code}`;
  let reason: WithReason['reason'] | undefined;

  const retry = (outcome: Outcome): boolean => {
    if (until !== undefined) return !until.test(outcome.stdout);
    if (whilePattern !== undefined) return whilePattern.test(outcome.stdout);
    return retryOn === undefined ? outcome.code !== 0 : retryOn.has(outcome.code);
  };
  const quiet = values.quiet === true;
  const call = onPredicate(
    WAITS[waitName as keyof typeof WAITS],
    retry as (value: unknown) => boolean,
    {
      ...waitOptions,
      maxTries:
        values['max-tries'] === undefined ? undefined : number('max-tries', values['max-tries']),
      maxTime:
        values['max-time'] === undefined ? undefined : number('max-time', values['max-time']),
      jitter: JITTERS[jitterName as keyof typeof JITTERS],
      clock: io.clock ?? systemClock,
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
  )(() => runOnce(command, args, keep, stdout, interrupter.signal)) as () => Promise<Outcome>;
  return {
    call,
    command,
    interrupted: interrupter.signal,
    gaveUpOnTime: () => reason === 'maxTime',
  };
}

/** The package version. */
const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version;
