/**
 * Logging: the default logger and the "Backing off" / "Giving up" lines.
 *
 * @module
 */

import { isThenable } from '../base/validate.js';
import { operationName } from '../engine/lifecycle.js';
import type { Logger } from '../types.js';

type Details = { readonly [field: string]: unknown };

/** The methods of the default logger. @internal */
export const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** True when `NODE_DEBUG` names `section` (comma-separated, `*` wildcards), as util.debuglog reads it. */
function debugEnabled(section: string): boolean {
  // Stryker disable next-line OptionalChaining: there is no process in a browser (the Chromium test)
  const list = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.NODE_DEBUG;
  if (!list) return false;
  return list.split(',').some((entry) => {
    const pattern = entry
      .trim()
      .replace(/[|\\{}()[\]^$+?.]/g, '\\$&')
      .replaceAll('*', '.*');
    return new RegExp(`^${pattern}$`, 'i').test(section);
  });
}

/** A logger that writes `BACKOFF <pid>: <message>` lines to stderr, as util.debuglog does. */
function stderrLogger(): Logger {
  // Only made when NODE_DEBUG was read from `process`: there is one.
  const proc = (
    globalThis as unknown as { process: { pid: number; stderr: { write(text: string): unknown } } }
  ).process;
  const write = (message: string): void => {
    proc.stderr.write(`BACKOFF ${proc.pid}: ${message}\n`);
  };
  return Object.fromEntries(LEVELS.map((level) => [level, write]));
}

/**
 * The default logger, decided when a decorator is made: silent (as Python backoff's NullHandler),
 * unless `NODE_DEBUG` names `backoff`; then it writes `BACKOFF <pid>: …` lines to stderr. Returns
 * `undefined` when silent, so that no log handler runs at all.
 *
 * @internal
 */
export function defaultLogger(): Logger | undefined {
  return debugEnabled('backoff') ? stderrLogger() : undefined;
}

/**
 * Renders a failed attempt's error or value for a log line: an `Error` as `name: message` (even
 * one with its own `toString`), arrays and plain objects as JSON (cut to 200 characters), anything
 * else with `String()`.
 *
 * @internal
 */
export function renderOutcome(outcome: unknown): string {
  try {
    return renderUnguarded(outcome);
  } catch {
    // A getter that throws (`name`, `message`), a revoked Proxy: the line still goes out.
    return '<unprintable value>';
  }
}

function renderUnguarded(outcome: unknown): string {
  if (outcome instanceof Error) {
    return outcome.message ? `${outcome.name}: ${outcome.message}` : outcome.name;
  }
  if (
    typeof outcome === 'object' &&
    outcome !== null &&
    (Array.isArray(outcome) ||
      Object.getPrototypeOf(outcome) === Object.prototype ||
      Object.getPrototypeOf(outcome) === null)
  ) {
    try {
      const json = JSON.stringify(outcome);
      return json.length > 200 ? `${json.slice(0, 199)}…` : json;
    } catch {
      // Circular or holding a BigInt: fall through to String().
    }
  }
  try {
    return String(outcome);
  } catch {
    return Object.prototype.toString.call(outcome);
  }
}

/** Who backs off or gives up, in a log line: the operation's name, else what it is. */
function subject(details: Details, name: string | undefined): string {
  const target = details.target as ((...args: never[]) => unknown) | undefined;
  return operationName(name, target) ?? (target === undefined ? 'retryContext' : '<anonymous>');
}

function outcomeOf(details: Details): unknown {
  return 'exception' in details ? details.exception : details.value;
}

/**
 * The default `onBackoff` handler: `Backing off name(...) for 1.3s (TypeError: fetch failed)`.
 *
 * @internal
 */
export function backoffLine(
  logger: Logger,
  level: string,
  name: string | undefined,
): (details: Details) => void {
  return (details) => {
    callLogger(
      logger,
      level,
      () =>
        `Backing off ${subject(details, name)}(...) for ${(details.wait as number).toFixed(1)}s (${renderOutcome(outcomeOf(details))})`,
    );
  };
}

/** What a "Giving up" line adds after the tries, by give-up reason. */
const REASONS: Readonly<Record<string, string>> = {
  maxTime: ', maxTime reached',
  exhausted: ', no waits left',
  aborted: ', aborted',
  budget: ', retry budget spent',
  serverWait: ', the server asked to wait past maxServerWait',
};

/**
 * The default `onGiveup` handler: `Giving up name(...) after 5 tries (TypeError: fetch failed)`,
 * with the reason when it is not `maxTries` (`…after 3 tries, maxTime reached (…)`). A give-up
 * decided by the `giveup` predicate is no failure of the retrying: it is logged at the backoff
 * level, as `Giving up name(...): giveup returned true on try 2 (…)`.
 *
 * @internal
 */
export function giveupLine(
  logger: Logger,
  level: string,
  backoffLevel: string,
  name: string | undefined,
): (details: Details) => void {
  return (details) => {
    if (details.reason === 'giveup') {
      callLogger(
        logger,
        backoffLevel,
        () =>
          `Giving up ${subject(details, name)}(...): giveup returned true on try ${details.tries as number} (${renderOutcome(outcomeOf(details))})`,
      );
      return;
    }
    const why = REASONS[details.reason as string] ?? '';
    callLogger(
      logger,
      level,
      () =>
        `Giving up ${subject(details, name)}(...) after ${details.tries as number} tries${why} (${renderOutcome(outcomeOf(details))})`,
    );
  };
}

/** Loggers whose failure was reported already: once each. */
const failedLoggers = new WeakSet<object>();

/**
 * A logger's failure never changes the call: it is reported once per logger through
 * `process.emitWarning` (where there is one) and otherwise ignored.
 */
function loggerFailed(logger: Logger, level: string, error: unknown): void {
  if (failedLoggers.has(logger)) return;
  failedLoggers.add(logger);
  warn(
    `backoff-ts: the logger's \`${level}\` method failed (${renderOutcome(error)}); the retries go on, and this logger's later failures are not reported`,
    'BackoffLoggerWarning',
    'BACKOFF_TS_LOGGER_FAILED',
  );
}

/**
 * Reports a failure of something the user plugged in (a logger, a telemetry subscriber) through
 * `process.emitWarning`, where there is one; in a browser, nowhere.
 *
 * @internal
 */
export function warn(text: string, type: string, code: string): void {
  const proc = (
    globalThis as { process?: { emitWarning?: (message: string, options: object) => void } }
  ).process;
  // Stryker disable next-line OptionalChaining: there is no process in a browser
  proc?.emitWarning?.(text, { type, code });
}

function callLogger(logger: Logger, level: string, message: () => string): void {
  try {
    // The level was checked to be a method of the logger when the decorator was made.
    const method = (logger as Record<string, unknown>)[level] as (message: string) => unknown;
    const result = method.call(logger, message());
    // Stryker disable next-line ConditionalExpression: a plain value's promise never rejects either
    if (isThenable(result)) {
      Promise.resolve(result).then(undefined, (error: unknown) =>
        loggerFailed(logger, level, error),
      );
    }
  } catch (error) {
    loggerFailed(logger, level, error);
  }
}
