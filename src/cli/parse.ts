/**
 * The command line's words: the flags, their values (decimal numbers, patterns, exit codes), where
 * the command starts, the help text.
 *
 * @module
 */

import type { parseArgs } from 'node:util';
import { VERSION } from '../version.js';
import { equalJitter, fullJitter, randomJitter } from '../waits/jitter.js';
import { constant, decay, expo, fibo } from '../waits/wait-gen.js';

export const HELP = `Usage: backoff-ts [options] -- command [args...]

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
then SIGKILL after --kill-after seconds; a second Ctrl-C or SIGTERM sends SIGKILL at once. SIGHUP,
SIGQUIT, SIGALRM, SIGUSR1 and SIGUSR2 reach the group as themselves. The tool never exits before
a group it stopped is gone.

Exit status: 0 when the command succeeds; on giving up, the command's last exit code (128 + N when
signal N killed it), or 124 when --max-time ran out, or 1 when --until / --while gave up after a
run that exited 0; 2 for a bad option; 126 when the command cannot be executed, 127 when it is not
found; 141 when standard output is closed. Stopped by a signal, the tool exits as the command did
(130 / 143 when SIGINT / SIGTERM ended it, 137 when it needed SIGKILL). A run stopped by --timeout
counts as exit 124 (137 when it needed SIGKILL) and is retried.

Examples:
  backoff-ts --max-tries 5 -- curl -fsS http://localhost:8080/health
  backoff-ts --wait constant --interval 2 --jitter none --max-time 60 --until ready -- ./status.sh
`;

/** The flags, for `node:util`'s `parseArgs`. */
export const OPTIONS = {
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

/** The wait generators, by `--wait` name. */
export const WAITS: {
  readonly expo: typeof expo;
  readonly fibo: typeof fibo;
  readonly constant: typeof constant;
  readonly decay: typeof decay;
} = { expo, fibo, constant, decay };

/** The jitters, by `--jitter` name. */
export const JITTERS: {
  readonly full: typeof fullJitter;
  readonly equal: typeof equalJitter;
  readonly random: typeof randomJitter;
  readonly none: null;
} = { full: fullJitter, equal: equalJitter, random: randomJitter, none: null };

/** The wait options each generator takes, by flag. */
export const WAIT_FLAGS: Readonly<Record<keyof typeof WAITS, Readonly<Record<string, string>>>> = {
  expo: { base: 'base', factor: 'factor', 'max-value': 'maxValue' },
  fibo: { 'max-value': 'maxValue' },
  constant: { interval: 'interval' },
  decay: {
    'initial-value': 'initialValue',
    'decay-factor': 'decayFactor',
    'min-value': 'minValue',
  },
};

export type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/**
 * Splits the arguments at the command: after `--`, or at the first word that is neither an option
 * nor an option's value — options stop there, as with `timeout`, `nice` and `env`. So
 * `backoff-ts --max-tries 3 curl -f url` needs no `--`, and an option of the command (`sh -c`) is
 * never taken for the tool's. Bun drops a `--` that comes first (`bun backoff-ts -- sh -c …` hands
 * the script `sh -c …`), which this reads the same way.
 */
export function splitAtCommand(argv: readonly string[]): [options: string[], command: string[]] {
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

/** A bad flag or value: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A decimal number (`0x10`, `1_000` and `''` are not), or `Infinity`. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?Infinity$/;

export function number(flag: string, text: string): number {
  if (!DECIMAL.test(text.trim())) {
    throw new UsageError(`--${flag}: expected a decimal number, got "${text}"`);
  }
  return Number(text);
}

export function regex(flag: string, text: string): RegExp {
  try {
    return new RegExp(text, 'm');
  } catch (error) {
    throw new UsageError(`--${flag}: not a valid regular expression: ${(error as Error).message}`);
  }
}

export function exitCodes(text: string): Set<number> {
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

/** Library errors name the option in camelCase; say the flag instead. */
export function describeOptionError(error: unknown): string {
  if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
  return error.message.replace(
    /`(\w+)`/g,
    (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  );
}

/** The package version, for `--version`. */
export const version = (): string => VERSION;
