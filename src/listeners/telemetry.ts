/**
 * Telemetry through `node:diagnostics_channel`: the retry lifecycle published on named channels,
 * for APM tools and `backoff-ts/otel` to subscribe to. Where the module is missing (a browser)
 * nothing is published; when a channel has no subscriber, nothing is built for it. The publishers
 * are listeners on the lifecycle's stages (`lifecycle.ts`), wired by `listeners.ts`.
 *
 * @module
 */

import { type Details, type Listener, operationName } from '../engine/lifecycle.js';
import type { Run } from '../engine/loop.js';
import type { Around, Plan } from '../plan/plan.js';

/**
 * The names of the channels backoff-ts publishes on: a public interface, versioned with the
 * package (a name or a payload field changes only in a major version).
 *
 * - `call`: a `TracingChannel` for each call of a decorated function (`tracing:backoff-ts:call:start`,
 *   `…:end`, `…:asyncStart`, `…:asyncEnd`, `…:error`), with a {@link CallMessage}; the stores bound to
 *   its `start` channel are active for the whole call, its attempts included.
 * - `attempt`: each attempt's end, with an {@link AttemptMessage}.
 * - `wait`: each wait, before it starts, with a {@link WaitMessage}.
 * - `giveup`: each give-up, with a {@link GiveupMessage}.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { CHANNELS, type WaitMessage } from 'backoff-ts';
 *
 * diagnostics.subscribe(CHANNELS.wait, (message) => {
 *   const { name, tries, wait } = message as WaitMessage;
 *   console.log(`${name}: try ${tries} failed, waiting ${wait} s`);
 * });
 * ```
 */
export const CHANNELS = {
  /** The tracing channel of each call of a decorated function. */
  call: 'backoff-ts:call',
  /** Each attempt's end. */
  attempt: 'backoff-ts:attempt',
  /** Each wait, before it starts. */
  wait: 'backoff-ts:wait',
  /** Each give-up. */
  giveup: 'backoff-ts:giveup',
  /** Each circuit breaker's transitions and refusals (`circuitBreaker`). */
  breaker: 'backoff-ts:breaker',
} as const;

/** What every message has: the retrying operation's name and the details its handlers see. */
export interface MessageBase {
  /** The `name` option, else the target's name (`undefined` for the block form without one). */
  readonly name: string | undefined;
  /** The decorated function (absent in the block form). */
  readonly target?: (...args: never) => unknown;
  /** A copy of the call's arguments (absent in the block form). */
  readonly args?: readonly unknown[];
  /** The 1-based number of the attempt that ended. */
  readonly tries: number;
  /**
   * Seconds since the call started, at the end of that attempt, on the decorator's clock (a test
   * kit's virtual clock: virtual seconds). The clock is read for messages whenever someone
   * subscribes, and only then. A call already running when the first subscriber came has the
   * loop's own elapsed time (0 unless the plan reads the clock: `maxTime`, `giveup`, handlers).
   */
  readonly elapsed: number;
  /** The call's retry budget, if it has one. */
  readonly budget?: unknown;
  /**
   * What the operation adds to its telemetry, as OpenTelemetry attributes: `retryFetch`'s
   * `http.request.method`, `server.address` and `server.port`. Absent for the other operations.
   */
  readonly attributes?: Readonly<Record<string, string | number>>;
}

/** The context of the `call` tracing channel; `result` or `error` is set when the call settles. */
export interface CallMessage {
  /** The `name` option, else the target's name. */
  readonly name: string | undefined;
  /** The decorated function. */
  readonly target: (...args: never) => unknown;
  /** A copy of the call's arguments. */
  readonly args: readonly unknown[];
  /** What the call returned (set by the tracing channel). */
  result?: unknown;
  /** What the call threw or rejected with (set by the tracing channel). */
  error?: unknown;
}

/** An attempt's end, on `backoff-ts:attempt`. */
export interface AttemptMessage extends MessageBase {
  /**
   * `'success'` (the call returns it), `'failure'` (a retryable failure: retried or given up) or
   * `'error'` (an error the decorator does not retry: the call rejects with it at once).
   */
  readonly outcome: 'success' | 'failure' | 'error';
  /** What the attempt threw (exception twins, the block form; and an attempt that timed out). */
  readonly exception?: unknown;
  /** What the attempt returned. */
  readonly value?: unknown;
  /**
   * Seconds the attempt took, on the decorator's clock; absent for an attempt that started before
   * the first subscriber came.
   */
  readonly duration?: number;
}

/** A wait about to start, on `backoff-ts:wait`: the `onBackoff` details. */
export interface WaitMessage extends MessageBase {
  /** Seconds about to be slept. */
  readonly wait: number;
  /** The failure that is retried: what the attempt threw. */
  readonly exception?: unknown;
  /** The value that is retried (predicate twins). */
  readonly value?: unknown;
}

/** A give-up, on `backoff-ts:giveup`: the `onGiveup` details. */
export interface GiveupMessage extends MessageBase {
  /** Why the call gave up. */
  readonly reason: string;
  /** The last failure: what the last attempt threw (or the abort reason). */
  readonly exception?: unknown;
  /** The last value (predicate twins). */
  readonly value?: unknown;
}

/** The part of a diagnostics channel the loop uses. */
interface Channel {
  readonly hasSubscribers: boolean;
  publish(message: unknown): void;
}

/** The part of a tracing channel the decorators use. */
interface TracingChannel {
  readonly hasSubscribers: boolean;
  tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>;
  traceSync<T>(fn: () => T, context: object): T;
}

/** The part of `node:diagnostics_channel` backoff-ts uses. @internal */
export interface DiagnosticsChannel {
  channel(name: string): Channel;
  tracingChannel(name: string): TracingChannel;
  subscribe(name: string, handler: (message: unknown) => void): void;
  unsubscribe(name: string, handler: (message: unknown) => void): boolean;
}

/**
 * `node:diagnostics_channel`, found without a static import (which would break the core in a
 * browser bundle): `process.getBuiltinModule` is in Node ≥ 20.16, Bun and Deno.
 *
 * @internal
 */
export function diagnosticsChannel(): DiagnosticsChannel | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  try {
    const module = process?.getBuiltinModule?.('node:diagnostics_channel') as
      | Partial<DiagnosticsChannel>
      | undefined;
    // A runtime with channels but no tracing channels publishes nothing rather than half.
    if (
      // Stryker disable next-line OptionalChaining: without the module, reading it throws, and the catch below says the same
      typeof module?.channel !== 'function' ||
      typeof module.tracingChannel !== 'function' ||
      typeof module.subscribe !== 'function'
    ) {
      return undefined;
    }
    return module as DiagnosticsChannel;
  } catch {
    // A runtime whose getBuiltinModule throws has none either.
  }
  return undefined;
}

/** The channels, or `undefined` where the runtime has none. @internal */
export const channels = (():
  | Readonly<{
      call: TracingChannel;
      attempt: Channel;
      wait: Channel;
      giveup: Channel;
      breaker: Channel;
    }>
  | undefined => {
  const dc = diagnosticsChannel();
  if (dc === undefined) return undefined;
  return {
    call: dc.tracingChannel(CHANNELS.call),
    attempt: dc.channel(CHANNELS.attempt),
    wait: dc.channel(CHANNELS.wait),
    giveup: dc.channel(CHANNELS.giveup),
    breaker: dc.channel(CHANNELS.breaker),
  };
})();

/** The `backoff-ts:breaker` channel, or `undefined` where the runtime has none. @internal */
export const breakerChannel = (): Channel | undefined => channels?.breaker;

/**
 * What the publishers note of a call while someone subscribes: when it started and when its
 * attempt started (seconds, on its clock), and its elapsed time at the last attempt's end, in the
 * call's `notes`. The loop reads the clock only for what decides (`maxTime`, `giveup`, handlers):
 * a call nobody observes pays nothing for telemetry's times.
 */
interface Marks {
  start: number;
  attempt: number;
  elapsed: number;
}

/** The marks of a call, if a publisher noted its start. */
const marksOf = (run: Run): Marks | undefined => run.notes as Marks | undefined;

/** The call's clock now, in seconds; `undefined` if the user's clock fails (that is its owner's concern, not telemetry's). */
function clockNow(run: Run): number | undefined {
  try {
    const now = run.plan.clock.now();
    if (Number.isFinite(now)) return now;
  } catch {
    // The loop reports a failing clock where it reads it; telemetry goes without the time.
  }
  return undefined;
}

/**
 * Notes when an attempt starts, and when the call started, before its first attempt. A plan that
 * reads the clock anyway (`timed`) gives its start; others read the clock here.
 */
function markAttempt(run: Run): undefined {
  const now = clockNow(run);
  if (now === undefined) return undefined;
  const noted = marksOf(run);
  if (run.tries === 0) {
    run.notes = { start: run.plan.timed ? run.start : now, attempt: now, elapsed: 0 };
  } else if (noted !== undefined) noted.attempt = now;
  return undefined;
}

/** Notes an attempt's end; returns its duration in seconds, if its start was noted. */
function markEnd(run: Run): number | undefined {
  const noted = marksOf(run);
  if (noted === undefined) return undefined;
  const now = run.plan.timed ? run.start + run.elapsed : clockNow(run);
  if (now === undefined) return undefined;
  noted.elapsed = now - noted.start;
  return now - noted.attempt;
}

/**
 * A telemetry message: a copy of the event's details (a subscriber cannot change what handlers
 * see), with the operation's name first, `elapsed` on the call's clock, the operation's attributes
 * and the call's budget last.
 */
function telemetryPayload(run: Run, event: Details): Details {
  const payload: Details = { name: operationName(run.plan.name, run.target), ...event };
  const noted = marksOf(run);
  if (noted !== undefined) payload.elapsed = noted.elapsed;
  if (run.args !== undefined) {
    payload.args = run.args.slice();
    if (run.plan.attributes !== undefined) payload.attributes = run.plan.attributes(run.args);
  }
  if (run.plan.budget !== undefined) payload.budget = run.plan.budget;
  return payload;
}

const { attempt, wait, giveup } = channels ?? {};
/** Does anyone subscribe to a lifecycle channel? (Called only where `channels` exist.) */
const listening = (): boolean =>
  (attempt as Channel).hasSubscribers ||
  (wait as Channel).hasSubscribers ||
  (giveup as Channel).hasSubscribers;

/** A listener that publishes its stage's events on `channel`, while it has subscribers. */
function publisher(channel: Channel): Listener {
  return {
    active: () => channel.hasSubscribers,
    on: (run, event) => {
      channel.publish(telemetryPayload(run, event));
      return undefined;
    },
  };
}

/** The publisher of attempts' ends: the message has the attempt's `duration`. */
function attemptPublisher(channel: Channel): Listener {
  return {
    active: listening,
    on: (run, event) => {
      const duration = markEnd(run);
      // Stryker disable next-line ConditionalExpression: a message published to nobody goes nowhere; the check saves building it
      if (!channel.hasSubscribers) return undefined;
      const payload = telemetryPayload(run, event);
      if (duration !== undefined) payload.duration = duration;
      channel.publish(payload);
      return undefined;
    },
  };
}

/** The publishers, by stage; none where the runtime has no channels. @internal */
export const publishers = channels && {
  // Stryker disable next-line BooleanLiteral: an event built for a listener that ignores it changes nothing but the cost
  beforeAttempt: { active: listening, eventless: true, on: markAttempt } satisfies Listener,
  attemptEnd: attemptPublisher(channels.attempt),
  backoff: publisher(channels.wait),
  giveup: publisher(channels.giveup),
};

type Target = (...args: never[]) => unknown;

/** The `call` tracing channel (read only where `channels` exist). */
const calls = channels?.call as TracingChannel;

/** The context of a call's trace: the operation's name, the target, a copy of the arguments. */
function callMessage(plan: Plan, target: Target, args: readonly unknown[]): object {
  return { name: operationName(plan.name, target), target, args: args.slice() };
}

/**
 * Runs each call inside the `call` tracing channel while it has subscribers, so that the stores
 * bound to it span every attempt. @internal
 */
export const tracer: Around | undefined = channels && {
  active: () => calls.hasSubscribers,
  async: (call, plan, target, args) => calls.tracePromise(call, callMessage(plan, target, args)),
  sync: (call, plan, target, args) => calls.traceSync(call, callMessage(plan, target, args)),
};
