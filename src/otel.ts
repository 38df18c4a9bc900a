/**
 * OpenTelemetry for backoff-ts (`backoff-ts/otel`): metrics and span events for every retrying
 * function, from the diagnostics channels the core publishes on. `@opentelemetry/api` (≥ 1.9) is
 * an optional peer dependency, imported by this module only.
 *
 * What a retrying call looks like in a trace: **events on the active span**, not a span of its own.
 * A retry loop usually wraps a client that already makes a span per request (HTTP, database), so a
 * span per call would double every one of them; each wait and the give-up become events of the span
 * the call runs in, and the client's spans of the attempts stay as they are.
 *
 * @example
 * ```ts
 * import { instrument } from 'backoff-ts/otel';
 *
 * const stop = instrument(); // every retrying function, the global meter provider
 * // …
 * stop();
 * ```
 *
 * @module
 */

import {
  type Attributes,
  type MeterProvider,
  metrics,
  type ObservableCounter,
  type ObservableResult,
  trace,
} from '@opentelemetry/api';
import { typeError } from './base/validate.js';
import { renderOutcome, warn } from './listeners/logging.js';
import {
  type AttemptMessage,
  CHANNELS,
  diagnosticsChannel,
  type GiveupMessage,
  type MessageBase,
  type WaitMessage,
} from './listeners/telemetry.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /** Where the metrics go. @defaultValue the global meter provider (`metrics.getMeterProvider()`) */
  readonly meterProvider?: MeterProvider | undefined;
  /**
   * Which retrying operations to record, by their name (the `name` option, else the target's): per
   * decorator, without touching its options. @defaultValue all of them
   */
  readonly filter?: ((name: string | undefined) => boolean) | undefined;
  /** Add `backoff.wait` and `backoff.giveup` events to the active span. @defaultValue `true` */
  readonly spanEvents?: boolean | undefined;
}

/** Seconds: the waits of the built-in generators run from milliseconds to minutes. */
const WAIT_BUCKETS = [0, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Makes the subscribers of one `instrument()`: an error in one (the user's `filter`, say) would
 * reach the process as an uncaught exception (diagnostics_channel rethrows it on the next tick), so
 * it is reported once for them all, as a warning, and they go on.
 */
function guards(): (handler: (message: unknown) => void) => (message: unknown) => void {
  let reported = false;
  return (handler) => (message) => {
    try {
      handler(message);
    } catch (error) {
      if (reported) return;
      reported = true;
      warn(
        `backoff-ts/otel: recording failed (${renderOutcome(error)}); it goes on, and its later failures are not reported`,
        'BackoffTelemetryWarning',
        'BACKOFF_TS_TELEMETRY_FAILED',
      );
    }
  };
}

/**
 * OpenTelemetry's `error.type`: the error's `name` (`TypeError`, `AttemptTimeoutError`, `HttpError`
 * …), else the class of a class instance, else `_OTHER` (a plain object's class, `Object`, names no
 * type of error).
 */
function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { name } = error as { name?: unknown };
    if (typeof name === 'string' && name !== '') return name;
    const constructorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (
      typeof constructorName === 'string' &&
      constructorName !== '' &&
      constructorName !== 'Object'
    )
      return constructorName;
  }
  return '_OTHER';
}

/** The attributes every point and event has: the operation's name, and the failure's type. */
function attributesOf(message: MessageBase & { exception?: unknown }): Attributes {
  const attributes: Attributes = {};
  if (message.name !== undefined) attributes['backoff.name'] = message.name;
  if ('exception' in message) attributes['error.type'] = errorType(message.exception);
  return attributes;
}

/**
 * A monotonic count by attributes, kept in a Map and reported to an observable counter at each
 * collection (cumulative, as a Counter's sum would be).
 */
class Tally {
  readonly #counter: ObservableCounter;
  readonly #counts = new Map<string, { readonly attributes: Attributes; count: number }>();
  readonly #observe = (result: ObservableResult): void => {
    for (const { attributes, count } of this.#counts.values()) result.observe(count, attributes);
  };

  constructor(counter: ObservableCounter) {
    this.#counter = counter;
    counter.addCallback(this.#observe);
  }

  /** Counts one, under the message's name and error type and `key: value`. */
  add(message: MessageBase & { exception?: unknown }, key: string, value: string): void {
    // Stryker disable next-line StringLiteral: any constant serves, as long as it is the same for every message
    const type = 'exception' in message ? errorType(message.exception) : '';
    // Stryker disable next-line StringLiteral: any constant serves for no name, as long as it is the same
    const id = `${message.name ?? ''}\u0000${type}\u0000${value}`;
    const entry = this.#counts.get(id);
    if (entry !== undefined) entry.count += 1;
    else this.#counts.set(id, { attributes: { ...attributesOf(message), [key]: value }, count: 1 });
  }

  stop(): void {
    this.#counter.removeCallback(this.#observe);
  }
}

/** The tokens left in a budget whose `state()` reports them (`tokenBucket`, `throttle`). */
function tokensOf(budget: unknown): number | undefined {
  const state = (budget as { state?: () => unknown }).state?.();
  const tokens = (state as { tokens?: unknown } | undefined)?.tokens;
  return typeof tokens === 'number' ? tokens : undefined;
}

/**
 * Records every retrying function's attempts, waits and give-ups with OpenTelemetry: one call, for
 * all decorators and block forms (the `filter` option narrows it to some). Metrics, on the meter
 * `backoff-ts`:
 *
 * - `backoff.attempts` (counter, `{attempt}`): attributes `backoff.name`, `backoff.outcome`
 *   (`success`, `failure`: retryable, `error`: not retried) and `error.type`.
 * - `backoff.wait.duration` (histogram, `s`): each wait; `backoff.name`, `error.type`.
 * - `backoff.giveups` (counter, `{giveup}`): `backoff.name`, `backoff.giveup.reason`, `error.type`.
 * - `backoff.budget.tokens` (gauge, `{token}`): the tokens left in each retry budget seen (those whose
 *   `state()` reports tokens), by `backoff.name`.
 *
 * Span events on the active span: `backoff.wait` (`backoff.attempt`, `backoff.wait.duration`,
 * `error.type`, `exception.message`) and `backoff.giveup` (`backoff.attempt`,
 * `backoff.giveup.reason`, `error.type`, `exception.message`).
 *
 * @param options - the meter provider, a filter by name, span events on or off
 * @returns a function that stops the recording
 * @throws `TypeError` where the runtime has no `node:diagnostics_channel`
 * @example
 * ```ts
 * import { instrument } from 'backoff-ts/otel';
 *
 * const stop = instrument({ filter: (name) => name?.startsWith('billing.') === true });
 * ```
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const { filter, spanEvents = true } = options;
  if (filter !== undefined && typeof filter !== 'function') {
    throw typeError('filter', 'a function', filter);
  }
  const dc = diagnosticsChannel();
  if (dc === undefined) {
    throw new TypeError(
      'backoff-ts/otel needs node:diagnostics_channel (process.getBuiltinModule: Node >= 20.16, Bun, Deno); this runtime has none',
    );
  }
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('backoff-ts');
  // Counted here and observed at each collection: the SDK's Counter.add costs about 1 µs a call
  // (its attribute hashing; 1,000,000 adds with two attributes, Node 20), which every call whose
  // first attempt succeeds would pay; a Map lookup costs a few tens of nanoseconds.
  const attempts = new Tally(
    meter.createObservableCounter('backoff.attempts', {
      unit: '{attempt}',
      description: 'Attempts of retrying operations, by outcome.',
    }),
  );
  const waits = meter.createHistogram('backoff.wait.duration', {
    unit: 's',
    description: 'Waits before a retry.',
    advice: { explicitBucketBoundaries: WAIT_BUCKETS },
  });
  const giveups = new Tally(
    meter.createObservableCounter('backoff.giveups', {
      unit: '{giveup}',
      description: 'Retrying operations that gave up, by reason.',
    }),
  );
  const tokens = meter.createObservableGauge('backoff.budget.tokens', {
    unit: '{token}',
    description: 'Tokens left in the retry budget of an operation.',
  });
  // The budget each operation used last; weakly held, so an instrument keeps no budget alive.
  const budgets = new Map<string | undefined, WeakRef<object>>();
  const observeTokens = (result: ObservableResult): void => {
    for (const [name, ref] of budgets) {
      const budget = ref.deref();
      const left = budget === undefined ? undefined : tokensOf(budget);
      if (left === undefined) budgets.delete(name);
      else result.observe(left, name === undefined ? {} : { 'backoff.name': name });
    }
  };
  tokens.addCallback(observeTokens);

  /** Lets in a message the filter accepts, noting its operation's budget for the tokens gauge. */
  const admit = (message: MessageBase): boolean => {
    if (filter !== undefined && !filter(message.name)) return false;
    const { budget } = message;
    if (typeof budget === 'object' && budget !== null && tokensOf(budget) !== undefined) {
      budgets.set(message.name, new WeakRef(budget));
    }
    return true;
  };
  const event = (name: string, message: WaitMessage | GiveupMessage, extra: Attributes): void => {
    if (!spanEvents) return;
    const span = trace.getActiveSpan();
    if (span === undefined) return;
    const attributes: Attributes = {
      ...attributesOf(message),
      'backoff.attempt': message.tries,
      ...extra,
    };
    // Stryker disable next-line ConditionalExpression: without an exception there is no message to read either
    if ('exception' in message) {
      const text = (message.exception as { message?: unknown } | null)?.message;
      if (typeof text === 'string') attributes['exception.message'] = text;
    }
    span.addEvent(name, attributes);
  };

  const guarded = guards();
  const onAttempt = guarded((raw) => {
    const message = raw as AttemptMessage;
    if (!admit(message)) return;
    attempts.add(message, 'backoff.outcome', message.outcome);
  });
  const onWait = guarded((raw) => {
    const message = raw as WaitMessage;
    if (!admit(message)) return;
    waits.record(message.wait, attributesOf(message));
    event('backoff.wait', message, { 'backoff.wait.duration': message.wait });
  });
  const onGiveup = guarded((raw) => {
    const message = raw as GiveupMessage;
    if (!admit(message)) return;
    giveups.add(message, 'backoff.giveup.reason', message.reason);
    event('backoff.giveup', message, { 'backoff.giveup.reason': message.reason });
  });
  dc.subscribe(CHANNELS.attempt, onAttempt);
  dc.subscribe(CHANNELS.wait, onWait);
  dc.subscribe(CHANNELS.giveup, onGiveup);
  // Stopping twice is harmless: unsubscribing and removing a callback that is gone do nothing.
  return () => {
    dc.unsubscribe(CHANNELS.attempt, onAttempt);
    dc.unsubscribe(CHANNELS.wait, onWait);
    dc.unsubscribe(CHANNELS.giveup, onGiveup);
    tokens.removeCallback(observeTokens);
    attempts.stop();
    giveups.stop();
  };
}
