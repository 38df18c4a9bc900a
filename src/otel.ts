/**
 * OpenTelemetry for backoff-ts (`backoff-ts/otel`): metrics and events for every retrying function,
 * from the diagnostics channels the core publishes on. `@opentelemetry/api` (≥ 1.9) and
 * `@opentelemetry/api-logs` are optional peer dependencies, imported by this module only.
 *
 * Set it up as any OpenTelemetry instrumentation: list a {@link BackoffInstrumentation} in
 * `new NodeSDK({ instrumentations: [...] })` or `registerInstrumentations(...)`, which hand it the
 * providers; or call {@link instrument}, in any order with `sdk.start()`.
 *
 * What a retrying call looks like in a trace: **log records correlated with the active span**, not
 * a span of its own. A retry loop usually wraps a client that already makes a span per request
 * (HTTP, database), so a span per call would double every one of them; each wait and the give-up
 * become events of the span the call runs in, emitted through the Logs API (OpenTelemetry's way
 * for new code since span events were deprecated, OTEP 4430), or as span events on request.
 *
 * @example
 * ```ts
 * import { NodeSDK } from '@opentelemetry/sdk-node';
 * import { BackoffInstrumentation } from 'backoff-ts/otel';
 *
 * new NodeSDK({ instrumentations: [new BackoffInstrumentation()] }).start();
 * ```
 *
 * @module
 */

import {
  type Attributes,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableCounter,
  type ObservableResult,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type Logger, type LoggerProvider, logs, SeverityNumber } from '@opentelemetry/api-logs';
import { typeError } from './base/validate.js';
import type {
  BreakerRefusal,
  BreakerState,
  BreakerTransition,
} from './breakers/circuit-breaker.js';
import { renderOutcome, warn } from './listeners/logging.js';
import {
  type AttemptMessage,
  CHANNELS,
  type DiagnosticsChannel,
  diagnosticsChannel,
  type GiveupMessage,
  type MessageBase,
  type WaitMessage,
} from './listeners/telemetry.js';
import { VERSION } from './version.js';

/** Options of {@link BackoffInstrumentation} and {@link instrument}. */
export interface BackoffInstrumentationConfig {
  /**
   * Start recording when made (OpenTelemetry's `InstrumentationConfig.enabled`).
   * @defaultValue `true`
   */
  readonly enabled?: boolean | undefined;
  /**
   * Where the metrics go. @defaultValue the one the SDK hands over (`setMeterProvider`), else the
   * global meter provider, followed when it is set later
   */
  readonly meterProvider?: MeterProvider | undefined;
  /**
   * Where the events go as log records. @defaultValue the one the SDK hands over
   * (`setLoggerProvider`), else the global logger provider of `@opentelemetry/api-logs`
   */
  readonly loggerProvider?: LoggerProvider | undefined;
  /**
   * Which retrying operations to record, by their name (the `name` option, else the target's): per
   * decorator, without touching its options. @defaultValue all of them
   */
  readonly filter?: ((name: string | undefined) => boolean) | undefined;
  /** Emit `backoff.wait` and `backoff.giveup` as log records (Logs API). @defaultValue `true` */
  readonly logEvents?: boolean | undefined;
  /** Also add them as events of the active span, for backends that show only those. @defaultValue `false` */
  readonly spanEvents?: boolean | undefined;
}

/** The names this instrumentation records under: the meter's and the logger's. */
const SCOPE = 'backoff-ts';
/** The semantic conventions the attributes follow (`error.type`, `http.request.method`, `server.*`). */
const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';

/** Seconds: the waits of the built-in generators run from milliseconds to minutes. */
const WAIT_BUCKETS = [0, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds, OpenTelemetry's advice for durations (`http.client.request.duration`), up to minutes. */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300,
];

/**
 * OpenTelemetry's `error.type`: for `retryFetch`'s `HttpError`, the status code (`"503"`), as the
 * HTTP conventions say; else the error's `name` (`TypeError`, `AttemptTimeoutError` …), else the
 * class of a class instance, else `_OTHER` (a plain object's class, `Object`, names no type of
 * error).
 */
function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { name, status } = error as { name?: unknown; status?: unknown };
    if (name === 'HttpError' && typeof status === 'number') return String(status);
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

type Message = MessageBase & { readonly exception?: unknown };

/**
 * The attributes every point and event has: the operation's name, what the operation adds
 * (`retryFetch`: method, server), and the failure's type.
 */
function attributesOf(message: Message): Attributes {
  const attributes: Attributes = { ...message.attributes };
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

  /** Counts one, under `attributes`, which `id` names. */
  add(id: string, attributes: () => Attributes): void {
    const entry = this.#counts.get(id);
    if (entry !== undefined) entry.count += 1;
    else this.#counts.set(id, { attributes: attributes(), count: 1 });
  }

  stop(): void {
    this.#counter.removeCallback(this.#observe);
  }
}

/** What names a message's attributes in a tally: its name, error type and operation attributes. */
function idOf(message: Message, value: string): string {
  // Stryker disable next-line StringLiteral: any constants serve, as long as they are the same for every message
  const type = 'exception' in message ? errorType(message.exception) : '';
  // Stryker disable next-line StringLiteral: the same
  return `${message.name ?? ''}\u0000${type}\u0000${value}\u0000${JSON.stringify(message.attributes)}`;
}

/** The tokens left in a budget whose `state()` reports them (`tokenBucket`, `throttle`). */
function tokensOf(budget: unknown): number | undefined {
  const state = (budget as { state?: () => unknown }).state?.();
  const tokens = (state as { tokens?: unknown } | undefined)?.tokens;
  return typeof tokens === 'number' ? tokens : undefined;
}

/** The instruments on one meter provider: made when it is first used, let go when it changes. */
class Instruments {
  readonly attempts: Tally;
  readonly giveups: Tally;
  readonly waits: Histogram;
  readonly attemptDuration: Histogram;
  readonly callDuration: Histogram;
  readonly #stopTokens: () => void;

  readonly refusals: Tally;
  readonly #stopBreakers: () => void;

  constructor(
    meter: Meter,
    observeTokens: (result: ObservableResult) => void,
    observeBreakers: (result: ObservableResult) => void,
  ) {
    // Counted here and observed at each collection: the SDK's Counter.add costs about 1 µs a call
    // (its attribute hashing; 1,000,000 adds with two attributes, Node 20), which every call whose
    // first attempt succeeds would pay; a Map lookup costs a few tens of nanoseconds.
    this.attempts = new Tally(
      meter.createObservableCounter('backoff.attempts', {
        unit: '{attempt}',
        description: 'Attempts of retrying operations, by outcome.',
      }),
    );
    this.giveups = new Tally(
      meter.createObservableCounter('backoff.giveups', {
        unit: '{giveup}',
        description: 'Retrying operations that gave up, by reason.',
      }),
    );
    this.waits = meter.createHistogram('backoff.wait.duration', {
      unit: 's',
      description: 'Waits before a retry.',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    });
    this.attemptDuration = meter.createHistogram('backoff.attempt.duration', {
      unit: 's',
      description: 'Attempts of retrying operations, by outcome and attempt number.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.callDuration = meter.createHistogram('backoff.call.duration', {
      unit: 's',
      description: 'Calls of retrying operations, retries and waits included, by outcome.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const tokens = meter.createObservableGauge('backoff.budget.tokens', {
      unit: '{token}',
      description: 'Tokens left in the retry budget of an operation.',
    });
    tokens.addCallback(observeTokens);
    this.#stopTokens = () => tokens.removeCallback(observeTokens);
    this.refusals = new Tally(
      meter.createObservableCounter('backoff.breaker.refusals', {
        unit: '{refusal}',
        description: 'Attempts a circuit breaker refused, by breaker and state.',
      }),
    );
    const states = meter.createObservableGauge('backoff.breaker.state', {
      unit: '{state}',
      description: 'Circuit breakers by state: 1 for the state each is in, 0 for the others.',
    });
    states.addCallback(observeBreakers);
    this.#stopBreakers = () => states.removeCallback(observeBreakers);
  }

  stop(): void {
    this.attempts.stop();
    this.giveups.stop();
    this.refusals.stop();
    this.#stopTokens();
    this.#stopBreakers();
  }
}

/** How a call ended, for `backoff.call.duration`. */
type CallOutcome = 'success' | 'giveup' | 'error';

/** The one instrumentation recording now: a second would count everything twice. */
let recording: BackoffInstrumentation | undefined;

/**
 * backoff-ts as an OpenTelemetry instrumentation: it has the shape of
 * `@opentelemetry/instrumentation`'s `Instrumentation` (name, version, `enable`, `disable`, the
 * provider setters, `getConfig`, `setConfig`), without depending on that package, which patches
 * modules and would weigh more than this whole subpath: there is nothing to patch, the core
 * publishes on diagnostics channels.
 *
 * Metrics, on the meter `backoff-ts` (with its version and schema URL):
 *
 * - `backoff.attempts` (counter, `{attempt}`): `backoff.name`, `backoff.outcome` (`success`,
 *   `failure`: retryable, `error`: not retried) and `error.type`.
 * - `backoff.attempt.duration` (histogram, `s`): each attempt; `backoff.name`, `backoff.outcome`,
 *   `backoff.attempt` (its number, from 1), `error.type`.
 * - `backoff.call.duration` (histogram, `s`): each call, from its start to its last attempt's end,
 *   waits included; `backoff.name`, `backoff.outcome` (`success`, `giveup`, `error`),
 *   `backoff.giveup.reason`, `error.type`.
 *
 * (No histogram of attempts per call: the attempt durations' `backoff.attempt` counts them — the
 * calls that reached attempt 3 are its points with `backoff.attempt` 3 — and a third histogram
 * record per call cost about 0.8 µs, as much as the rest of the call's telemetry.)
 * - `backoff.wait.duration` (histogram, `s`): each wait; `backoff.name`, `error.type`.
 * - `backoff.giveups` (counter, `{giveup}`): `backoff.name`, `backoff.giveup.reason`, `error.type`.
 * - `backoff.budget.tokens` (gauge, `{token}`): the tokens left in each retry budget seen (those whose
 *   `state()` reports tokens), by `backoff.name`.
 * - `backoff.breaker.state` (gauge, `{state}`): each built-in circuit breaker that has moved (250 at
 *   most, closed ones forgotten first), 1 for its state and 0 for the others;
 *   `backoff.breaker.key`, `backoff.breaker.state`.
 * - `backoff.breaker.refusals` (counter, `{refusal}`): attempts a built-in breaker refused;
 *   `backoff.breaker.key`, `backoff.breaker.state` (`open`, `halfOpen`, `isolated`).
 *
 * `retryFetch`'s points also have `http.request.method`, `server.address` and `server.port`, and
 * its `error.type` is the status code of an `HttpError`.
 *
 * Events, as log records correlated with the active span (and, with `spanEvents`, as events of
 * that span): `backoff.wait` (`backoff.attempt`, `backoff.wait.duration`, `error.type`,
 * `exception.message`; severity INFO) and `backoff.giveup` (`backoff.attempt`,
 * `backoff.giveup.reason`, `error.type`, `exception.message`; severity WARN).
 *
 * One instrumentation records at a time: enabling a second throws, rather than count twice.
 *
 * @example
 * ```ts
 * import { registerInstrumentations } from '@opentelemetry/instrumentation';
 * import { BackoffInstrumentation } from 'backoff-ts/otel';
 *
 * registerInstrumentations({ instrumentations: [new BackoffInstrumentation({ spanEvents: true })] });
 * ```
 */
export class BackoffInstrumentation {
  /** The instrumentation's name: `backoff-ts`. */
  readonly instrumentationName: string = SCOPE;
  /** The version of backoff-ts. */
  readonly instrumentationVersion: string = VERSION;
  #config: BackoffInstrumentationConfig;
  #meterProvider: MeterProvider | undefined;
  #loggerProvider: LoggerProvider | undefined;
  /** The channels, while enabled. */
  #dc: DiagnosticsChannel | undefined;
  #instruments: { provider: MeterProvider; instruments: Instruments } | undefined;
  #logger: { provider: LoggerProvider | undefined; logger: Logger } | undefined;
  /** The last state of each circuit breaker that moved (by key), for `backoff.breaker.state`. */
  readonly #breakers = new Map<string | undefined, BreakerState>();
  /** The budget each operation used last; weakly held, so that recording keeps no budget alive. */
  readonly #budgets = new Map<string | undefined, WeakRef<object>>();
  #reported = false;

  /**
   * @param config - the providers, a filter by name, which events; see {@link BackoffInstrumentationConfig}
   * @throws `TypeError` for an option of the wrong type; `Error` if enabled while another records
   */
  constructor(config: BackoffInstrumentationConfig = {}) {
    this.#config = checkConfig(config);
    this.#meterProvider = config.meterProvider;
    this.#loggerProvider = config.loggerProvider;
    if (this.#config.enabled !== false) this.enable();
  }

  /**
   * Starts recording: subscribes to the channels. Enabling it again does nothing.
   * @throws `Error` while another instrumentation of backoff-ts records; `TypeError` where the
   * runtime has no `node:diagnostics_channel`
   */
  enable(): void {
    if (recording === this) return;
    if (recording !== undefined) {
      throw new Error(
        'backoff-ts/otel is already recording (instrument() or a BackoffInstrumentation): a second would count every attempt twice; disable the first',
      );
    }
    const dc = diagnosticsChannel();
    if (dc === undefined) {
      throw new TypeError(
        'backoff-ts/otel needs node:diagnostics_channel (process.getBuiltinModule: Node >= 20.16, Bun, Deno); this runtime has none',
      );
    }
    recording = this;
    this.#dc = dc;
    dc.subscribe(CHANNELS.attempt, this.#onAttempt);
    dc.subscribe(CHANNELS.wait, this.#onWait);
    dc.subscribe(CHANNELS.giveup, this.#onGiveup);
    dc.subscribe(CHANNELS.breaker, this.#onBreaker);
  }

  /** Stops recording. Disabling it again does nothing. */
  disable(): void {
    const dc = this.#dc;
    if (dc === undefined) return;
    dc.unsubscribe(CHANNELS.attempt, this.#onAttempt);
    dc.unsubscribe(CHANNELS.wait, this.#onWait);
    dc.unsubscribe(CHANNELS.giveup, this.#onGiveup);
    dc.unsubscribe(CHANNELS.breaker, this.#onBreaker);
    this.#instruments?.instruments.stop();
    this.#instruments = undefined;
    this.#dc = undefined;
    // Enabled, it is the one recording: enable() refuses a second.
    recording = undefined;
  }

  /** Spans are the clients' own: backoff-ts makes none, and needs no tracer. */
  setTracerProvider(_tracerProvider: TracerProvider): void {}

  /** Where the metrics go from now on (the SDK calls it as it starts). */
  setMeterProvider(meterProvider: MeterProvider): void {
    this.#meterProvider = meterProvider;
  }

  /** Where the events go from now on (the SDK calls it as it starts). */
  setLoggerProvider(loggerProvider: LoggerProvider): void {
    this.#loggerProvider = loggerProvider;
  }

  /** The configuration, with `enabled` saying whether it records. */
  getConfig(): Omit<BackoffInstrumentationConfig, 'enabled'> & {
    /** Whether it records now. */
    readonly enabled: boolean;
  } {
    return { ...this.#config, enabled: this.#dc !== undefined };
  }

  /** Replaces the configuration (filter, events); the providers and `enabled` are set by their own methods. */
  setConfig(config: BackoffInstrumentationConfig = {}): void {
    this.#config = checkConfig(config);
  }

  /** The instruments on the meter provider in use: the one given, else the global one as it is now. */
  #metrics(): Instruments {
    const provider = this.#meterProvider ?? metrics.getMeterProvider();
    if (this.#instruments?.provider !== provider) {
      // @opentelemetry/api has no proxy meter provider: instruments made before the SDK set its
      // provider would record nothing, so they are made again on the provider set later.
      this.#instruments?.instruments.stop();
      const meter = provider.getMeter(SCOPE, VERSION, { schemaUrl: SCHEMA_URL });
      this.#instruments = {
        provider,
        instruments: new Instruments(meter, this.#observeTokens, this.#observeBreakers),
      };
    }
    return this.#instruments.instruments;
  }

  /** The logger of the events: on the provider given, else the global one (a proxy, set later). */
  #events(): Logger {
    const provider = this.#loggerProvider;
    // Stryker disable next-line ConditionalExpression: taking the logger again each time gives the same one (providers keep theirs), slower
    if (this.#logger === undefined || this.#logger.provider !== provider) {
      const options = { schemaUrl: SCHEMA_URL };
      const logger =
        provider === undefined
          ? logs.getLogger(SCOPE, VERSION, options)
          : provider.getLogger(SCOPE, VERSION, options);
      this.#logger = { provider, logger };
    }
    return this.#logger.logger;
  }

  readonly #observeTokens = (result: ObservableResult): void => {
    for (const [name, ref] of this.#budgets) {
      const budget = ref.deref();
      const left = budget === undefined ? undefined : tokensOf(budget);
      if (left === undefined) this.#budgets.delete(name);
      else result.observe(left, name === undefined ? {} : { 'backoff.name': name });
    }
  };

  readonly #observeBreakers = (result: ObservableResult): void => {
    for (const [key, current] of this.#breakers) {
      for (const state of BREAKER_STATES) {
        const attributes: Attributes = { 'backoff.breaker.state': state };
        if (key !== undefined) attributes['backoff.breaker.key'] = key;
        result.observe(state === current ? 1 : 0, attributes);
      }
    }
  };

  /** Lets in a message the filter accepts, noting its operation's budget for the tokens gauge. */
  #admit(message: MessageBase): boolean {
    const { filter } = this.#config;
    if (filter !== undefined && !filter(message.name)) return false;
    // The gauge's callback reads the tokens, and forgets a budget that reports none.
    const { budget, name } = message;
    // Stryker disable next-line ConditionalExpression: setting the same budget again changes nothing but the cost
    if (budget !== undefined && this.#budgets.get(name)?.deref() !== budget) {
      this.#budgets.set(name, new WeakRef(budget as object));
    }
    return true;
  }

  /**
   * Runs one subscriber: an error in it (the user's `filter`, say) would reach the process as an
   * uncaught exception (diagnostics_channel rethrows it on the next tick), so it is reported once,
   * as a warning, and recording goes on.
   */
  #guard(record: () => void): void {
    try {
      record();
    } catch (error) {
      if (this.#reported) return;
      this.#reported = true;
      warn(
        `backoff-ts/otel: recording failed (${renderOutcome(error)}); it goes on, and its later failures are not reported`,
        'BackoffTelemetryWarning',
        'BACKOFF_TS_TELEMETRY_FAILED',
      );
    }
  }

  /**
   * Records a call's end: its duration, from its start to its last attempt's end. `base`: the
   * message's attributes, built once by the caller.
   */
  #endCall(message: Message, base: Attributes, outcome: CallOutcome, extra?: Attributes): void {
    const attributes = { ...base, 'backoff.outcome': outcome, ...extra };
    this.#metrics().callDuration.record(message.elapsed, attributes);
  }

  /** Emits an event as a log record and, with `spanEvents`, on the active span. */
  #event(
    name: string,
    severity: SeverityNumber,
    message: WaitMessage | GiveupMessage,
    base: Attributes,
    extra: Attributes,
  ): void {
    const { logEvents = true, spanEvents = false } = this.#config;
    const attributes: Attributes = {
      ...base,
      'backoff.attempt': message.tries,
      ...extra,
    };
    // Stryker disable next-line ConditionalExpression: without an exception there is no message to read either
    if ('exception' in message) {
      const text = (message.exception as { message?: unknown } | null)?.message;
      if (typeof text === 'string') attributes['exception.message'] = text;
    }
    if (logEvents) {
      this.#events().emit({
        eventName: name,
        severityNumber: severity,
        severityText: SeverityNumber[severity],
        attributes,
      });
    }
    if (spanEvents) trace.getActiveSpan()?.addEvent(name, attributes);
  }

  readonly #onAttempt = (raw: unknown): void =>
    this.#guard(() => {
      const message = raw as AttemptMessage;
      if (!this.#admit(message)) return;
      const instruments = this.#metrics();
      const base = attributesOf(message);
      const { outcome } = message;
      instruments.attempts.add(idOf(message, outcome), () => ({
        ...base,
        'backoff.outcome': outcome,
      }));
      if (message.duration !== undefined) {
        instruments.attemptDuration.record(message.duration, {
          ...base,
          'backoff.outcome': outcome,
          'backoff.attempt': message.tries,
        });
      }
      // A failure is followed by a wait or a give-up; the other outcomes end the call.
      if (outcome !== 'failure') this.#endCall(message, base, outcome);
    });

  readonly #onWait = (raw: unknown): void =>
    this.#guard(() => {
      const message = raw as WaitMessage;
      if (!this.#admit(message)) return;
      const base = attributesOf(message);
      this.#metrics().waits.record(message.wait, base);
      this.#event('backoff.wait', SeverityNumber.INFO, message, base, {
        'backoff.wait.duration': message.wait,
      });
    });

  /** A breaker's transition (its state, kept for the gauge) or refusal (counted). */
  readonly #onBreaker = (raw: unknown): void =>
    this.#guard(() => {
      const message = raw as BreakerTransition | BreakerRefusal;
      const key = message.key;
      if ('refused' in message) {
        const attributes: Attributes = { 'backoff.breaker.state': message.state };
        if (key !== undefined) attributes['backoff.breaker.key'] = key;
        this.#metrics().refusals.add(`${key}\u0000${message.state}`, () => attributes);
        return;
      }
      // A fleet breaker's notice that Redis failed or answers again is no state.
      if (!('to' in message)) return;
      // The gauge reads the states at each collection: its instruments must exist on the provider.
      this.#metrics();
      this.#breakers.delete(key);
      this.#breakers.set(key, message.to);
      // Bounded: past MAX_BREAKERS, the breaker that closed longest ago is forgotten.
      if (this.#breakers.size > MAX_BREAKERS) {
        for (const [old, state] of this.#breakers) {
          if (state !== 'closed') continue;
          this.#breakers.delete(old);
          break;
        }
      }
    });

  readonly #onGiveup = (raw: unknown): void =>
    this.#guard(() => {
      const message = raw as GiveupMessage;
      if (!this.#admit(message)) return;
      const base = attributesOf(message);
      const reason = { 'backoff.giveup.reason': message.reason };
      this.#metrics().giveups.add(idOf(message, message.reason), () => ({ ...base, ...reason }));
      this.#endCall(message, base, 'giveup', reason);
      this.#event('backoff.giveup', SeverityNumber.WARN, message, base, reason);
    });
}

/** The states `backoff.breaker.state` reports, each breaker 1 in one of them. */
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'halfOpen', 'isolated'];

/**
 * The most breakers whose state the gauge keeps (keyed registries can hold many): four points
 * each, 1,000 in all, half the SDK's default cardinality limit of a metric (2,000).
 */
const MAX_BREAKERS = 250;

/** Checks the options that are not providers; returns them as given. */
function checkConfig(config: BackoffInstrumentationConfig): BackoffInstrumentationConfig {
  if (typeof config !== 'object' || config === null) {
    throw typeError('options', 'an options object', config);
  }
  const { filter, logEvents, spanEvents, enabled } = config;
  if (filter !== undefined && typeof filter !== 'function') {
    throw typeError('filter', 'a function', filter);
  }
  for (const [name, value] of Object.entries({ logEvents, spanEvents, enabled })) {
    if (value !== undefined && typeof value !== 'boolean')
      throw typeError(name, 'a boolean', value);
  }
  return config;
}

/**
 * Records every retrying function's attempts, waits and give-ups with OpenTelemetry, from now on:
 * a {@link BackoffInstrumentation}, enabled. Called before `sdk.start()` or after, it records to
 * the global meter and logger providers as they are when each point is recorded.
 *
 * @param options - the providers, a filter by name, which events
 * @returns a function that stops the recording (calling it again does nothing)
 * @throws `Error` while another instrumentation of backoff-ts records; `TypeError` for a bad option
 * or where the runtime has no `node:diagnostics_channel`
 * @example
 * ```ts
 * import { instrument } from 'backoff-ts/otel';
 *
 * const stop = instrument({ filter: (name) => name?.startsWith('billing.') === true });
 * ```
 */
export function instrument(options: InstrumentOptions = {}): () => void {
  const instrumentation = new BackoffInstrumentation({ ...checkConfig(options), enabled: true });
  return () => instrumentation.disable();
}

/** Options of {@link instrument}: those of {@link BackoffInstrumentation} but `enabled`. */
export type InstrumentOptions = Omit<BackoffInstrumentationConfig, 'enabled'>;
