// backoff-ts/otel against the real OpenTelemetry SDK: spans with the in-memory span exporter,
// metrics with the in-memory metric exporter.

import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { context, DiagLogLevel, diag, metrics as globalMetrics, trace } from '@opentelemetry/api';
import { logs as globalLogs, SeverityNumber } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { retryFetch } from '../../src/fetch.js';
import {
  AttemptTimeoutError,
  CHANNELS,
  circuitBreaker,
  consecutive,
  constant,
  onException,
  onPredicate,
  ratio,
  retryContext,
  tokenBucket,
} from '../../src/index.js';
import { BackoffInstrumentation, instrument } from '../../src/otel.js';
import { VirtualClock } from '../../src/testing.js';
import { FakeClock, quiet } from '../helpers.js';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const tracer = tracerProvider.getTracer('test');
const logRecords = new InMemoryLogRecordExporter();
const loggerProvider = new LoggerProvider({
  processors: [new SimpleLogRecordProcessor({ exporter: logRecords })],
});
let exporter: InMemoryMetricExporter;
let reader: PeriodicExportingMetricReader;
let meterProvider: MeterProvider;
let stop: () => void;

/** What the SDK complained of (a non-number value, a bad attribute): nothing, in every test. */
const complaints: string[] = [];
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const complain = (message: string) => complaints.push(message);
  const quietly = () => {};
  diag.setLogger(
    { error: complain, warn: complain, info: quietly, debug: quietly, verbose: quietly },
    DiagLogLevel.WARN,
  );
});
afterAll(() => {
  context.disable();
});
beforeEach(() => {
  exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  meterProvider = new MeterProvider({ readers: [reader] });
  // Span events too: most tests read the events off the span they ran in.
  stop = instrument({ meterProvider, loggerProvider, spanEvents: true });
});
afterEach(async () => {
  stop();
  spans.reset();
  logRecords.reset();
  expect(complaints.splice(0)).toEqual([]);
  await meterProvider.shutdown();
});

/** The metrics exported so far, by name. */
async function collected(): Promise<Map<string, MetricData>> {
  await reader.forceFlush();
  const byName = new Map<string, MetricData>();
  for (const resource of exporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    }
  }
  return byName;
}

/** Each point of a counter or gauge as [attributes, value]. */
function points(metric: MetricData | undefined): [Record<string, unknown>, unknown][] {
  return (metric?.dataPoints ?? []).map((point) => [point.attributes, point.value]);
}

/** Runs `fn` inside a span named `request`, ended when `fn` settles. */
async function inSpan<T>(fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan('request', async (span) => {
    try {
      return await fn();
    } finally {
      span.end();
    }
  });
}

describe('backoff-ts/otel with the OpenTelemetry SDK', () => {
  it('a call that retries twice and succeeds: two wait events on its span, attempts by outcome, waits in seconds', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const getUser = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1.5,
      name: 'users.get',
    })(async () => {
      calls += 1;
      if (calls <= 2) throw new TypeError('fetch failed');
      return 'user';
    });
    expect(await inSpan(() => getUser())).toBe('user');

    const [span, ...others] = spans.getFinishedSpans();
    expect(others).toEqual([]); // no span of its own: events on the caller's span
    expect(span?.name).toBe('request');
    expect(span?.events.map(({ name, attributes }) => [name, attributes])).toEqual([
      [
        'backoff.wait',
        {
          'backoff.name': 'users.get',
          'backoff.attempt': 1,
          'backoff.wait.duration': 1.5,
          'error.type': 'TypeError',
          'exception.message': 'fetch failed',
        },
      ],
      [
        'backoff.wait',
        {
          'backoff.name': 'users.get',
          'backoff.attempt': 2,
          'backoff.wait.duration': 1.5,
          'error.type': 'TypeError',
          'exception.message': 'fetch failed',
        },
      ],
    ]);

    const metrics = await collected();
    const attempts = metrics.get('backoff.attempts');
    expect(attempts?.descriptor).toMatchObject({ unit: '{attempt}' });
    expect(points(attempts)).toEqual([
      [{ 'backoff.name': 'users.get', 'error.type': 'TypeError', 'backoff.outcome': 'failure' }, 2],
      [{ 'backoff.name': 'users.get', 'backoff.outcome': 'success' }, 1],
    ]);
    const waits = metrics.get('backoff.wait.duration');
    expect(waits?.descriptor).toMatchObject({ unit: 's' });
    expect(waits?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const [histogram] = waits?.dataPoints ?? [];
    expect(histogram?.attributes).toEqual({
      'backoff.name': 'users.get',
      'error.type': 'TypeError',
    });
    expect(histogram?.value).toMatchObject({ count: 2, sum: 3, min: 1.5, max: 1.5 });
    expect(metrics.get('backoff.giveups')).toBeUndefined();
  });

  it('a call that gives up: a give-up event and point with the reason', async () => {
    const clock = new VirtualClock();
    const failing = onException(constant, Error, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 2,
      timeout: 1,
    })(async function slowQuery() {
      await clock.sleep(5);
    });
    await expect(inSpan(() => failing())).rejects.toBeInstanceOf(AttemptTimeoutError);
    const [span] = spans.getFinishedSpans();
    expect(span?.events.map(({ name }) => name)).toEqual(['backoff.wait', 'backoff.giveup']);
    expect(span?.events[1]?.attributes).toEqual({
      'backoff.name': 'slowQuery',
      'backoff.attempt': 2,
      'backoff.giveup.reason': 'maxTries',
      'error.type': 'AttemptTimeoutError',
      'exception.message': 'Attempt 2 timed out after 1 s',
    });
    const metrics = await collected();
    expect(points(metrics.get('backoff.giveups'))).toEqual([
      [
        {
          'backoff.name': 'slowQuery',
          'error.type': 'AttemptTimeoutError',
          'backoff.giveup.reason': 'maxTries',
        },
        1,
      ],
    ]);
    expect(points(metrics.get('backoff.attempts'))).toEqual([
      [
        {
          'backoff.name': 'slowQuery',
          'error.type': 'AttemptTimeoutError',
          'backoff.outcome': 'failure',
        },
        2,
      ],
    ]);
  });

  it('an aborted call: the give-up reason is aborted', async () => {
    const controller = new AbortController();
    let calls = 0;
    const wrapped = onException(constant, TypeError, {
      ...quiet,
      interval: 60,
      signal: controller.signal,
      name: 'sync.job',
    })(async () => {
      calls += 1;
      throw new TypeError(`fail ${calls}`);
    });
    const pending = inSpan(() => wrapped());
    setTimeout(() => controller.abort(new Error('shutdown')), 10);
    await expect(pending).rejects.toThrow('shutdown');
    const [span] = spans.getFinishedSpans();
    expect(
      span?.events.map(({ name, attributes }) => [name, attributes?.['backoff.giveup.reason']]),
    ).toEqual([
      ['backoff.wait', undefined],
      ['backoff.giveup', 'aborted'],
    ]);
    const metrics = await collected();
    expect(points(metrics.get('backoff.giveups'))).toEqual([
      [
        { 'backoff.name': 'sync.job', 'error.type': 'Error', 'backoff.giveup.reason': 'aborted' },
        1,
      ],
    ]);
  });

  it('reports the tokens left in a budget, and the block form under its name', async () => {
    const budget = tokenBucket({ capacity: 10, retryCost: 2 });
    const clock = new VirtualClock();
    for await (const attempt of retryContext(TypeError, constant, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 3,
      budget,
      raiseOnGiveup: false,
      name: 'batch',
    })) {
      await attempt.run(() => {
        throw new TypeError('no');
      });
    }
    const metrics = await collected();
    expect(points(metrics.get('backoff.budget.tokens'))).toEqual([
      [{ 'backoff.name': 'batch' }, budget.state().tokens],
    ]);
    expect(budget.state().tokens).toBe(6);
    expect(metrics.get('backoff.budget.tokens')?.descriptor).toMatchObject({ unit: '{token}' });
  });

  it('filter narrows it to some operations; stop() ends the recording', async () => {
    stop();
    stop = instrument({ meterProvider, filter: (name) => name === 'kept' });
    const clock = new VirtualClock();
    const make = (name: string) =>
      onException(constant, TypeError, { ...quiet, clock, interval: 1, maxTries: 1, name })(
        async () => {
          throw new TypeError('x');
        },
      );
    await make('kept')().catch(() => {});
    await make('dropped')().catch(() => {});
    const metrics = await collected();
    expect(
      points(metrics.get('backoff.giveups')).map(([attributes, value]) => [
        attributes['backoff.name'],
        value,
      ]),
    ).toEqual([['kept', 1]]);
    stop();
    stop();
    for (const name of [CHANNELS.attempt, CHANNELS.wait, CHANNELS.giveup]) {
      expect(diagnostics.channel(name).hasSubscribers).toBe(false);
    }
  });

  it('a filter that throws changes no call: it is reported once, as a warning', async () => {
    stop();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      stop = instrument({
        meterProvider,
        filter: () => {
          throw new Error('bad filter');
        },
      });
      const clock = new VirtualClock();
      let calls = 0;
      const wrapped = onException(constant, TypeError, { ...quiet, clock, interval: 1 })(
        async () => {
          calls += 1;
          if (calls < 3) throw new TypeError('again');
          return 'ok';
        },
      );
      expect(await wrapped()).toBe('ok');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((name) => name === 'BackoffTelemetryWarning').length).toBeGreaterThan(
        0,
      );
      expect(
        warnings.filter((name) => name === 'BackoffTelemetryWarning').length,
      ).toBeLessThanOrEqual(2);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('circuit breakers', () => {
  it('a state gauge (1 for each breaker’s state, 0 for the others) and a refusals counter', async () => {
    const clock = new VirtualClock();
    const db = circuitBreaker({ key: 'db', trip: consecutive(1), clock });
    const cache = circuitBreaker({ key: 'cache', trip: consecutive(1), clock });
    const call = onException(constant, TypeError, { ...quiet, clock, maxTries: 1, breaker: db });
    await call(async () => {
      throw new TypeError('down');
    })().catch(() => {});
    // Two refusals while open, then a probe that closes it.
    db.acquire();
    db.acquire();
    clock.advance(5);
    (db.acquire() as { ok: true; permit: { success(): void } }).permit.success();
    (cache.acquire() as { ok: true; permit: { failure(e: unknown): void } }).permit.failure(1);
    cache.isolate();
    cache.acquire();
    const metrics = await collected();
    const states = points(metrics.get('backoff.breaker.state'));
    const current = (key: string) =>
      states
        .filter(([attributes, value]) => attributes['backoff.breaker.key'] === key && value === 1)
        .map(([attributes]) => attributes['backoff.breaker.state']);
    expect(current('db')).toEqual(['closed']);
    expect(current('cache')).toEqual(['isolated']);
    expect(
      states
        .filter(([attributes]) => attributes['backoff.breaker.key'] === 'db')
        .map(([attributes]) => attributes['backoff.breaker.state']),
    ).toEqual(['closed', 'open', 'halfOpen', 'isolated']);
    expect(states).toHaveLength(8); // four states for each of the two breakers
    expect(points(metrics.get('backoff.breaker.refusals'))).toEqual([
      [{ 'backoff.breaker.key': 'db', 'backoff.breaker.state': 'open' }, 2],
      [{ 'backoff.breaker.key': 'cache', 'backoff.breaker.state': 'isolated' }, 1],
    ]);
    expect(metrics.get('backoff.breaker.state')?.descriptor).toMatchObject({
      unit: '{state}',
      description: 'Circuit breakers by state: 1 for the state each is in, 0 for the others.',
    });
    expect(metrics.get('backoff.breaker.refusals')?.descriptor).toMatchObject({
      unit: '{refusal}',
      description: 'Attempts a circuit breaker refused, by breaker and state.',
    });
  });
});

describe('circuit breakers: no key, and after stop()', () => {
  it('a breaker without a key has points without the key attribute', async () => {
    const clock = new VirtualClock();
    const unnamed = circuitBreaker({ trip: consecutive(1), clock });
    (unnamed.acquire() as { ok: true; permit: { failure(e: unknown): void } }).permit.failure(1);
    unnamed.acquire();
    const metrics = await collected();
    // Strictly: no key attribute at all, not one set to undefined.
    expect(points(metrics.get('backoff.breaker.refusals'))).toStrictEqual([
      [{ 'backoff.breaker.state': 'open' }, 1],
    ]);
    expect(
      points(metrics.get('backoff.breaker.state')).filter(([, value]) => value === 1),
    ).toStrictEqual([[{ 'backoff.breaker.state': 'open' }, 1]]);
  });

  it('a fleet breaker’s notice that Redis failed is no state and no refusal', async () => {
    const channel = diagnostics.channel(CHANNELS.breaker);
    channel.publish({ key: 'fleet', from: 'closed', to: 'open' });
    channel.publish({ key: 'fleet', redis: 'unreachable', error: new Error('down') });
    channel.publish({ key: 'fleet', redis: 'reachable' });
    const metrics = await collected();
    expect(
      points(metrics.get('backoff.breaker.state')).filter(([, value]) => value === 1),
    ).toStrictEqual([[{ 'backoff.breaker.key': 'fleet', 'backoff.breaker.state': 'open' }, 1]]);
    expect(points(metrics.get('backoff.breaker.refusals'))).toEqual([]);
  });

  it('stop() takes the state gauge off the meter', async () => {
    const clock = new VirtualClock();
    circuitBreaker({ key: 'gone', clock }).isolate();
    stop();
    const metrics = await collected();
    expect(points(metrics.get('backoff.breaker.state'))).toEqual([]);
  });
});

describe('circuit breakers: the bound', () => {
  it('keeps the state of at most 250 breakers, forgetting the one that closed longest ago', async () => {
    const channel = diagnostics.channel(CHANNELS.breaker);
    channel.publish({ key: 'down', from: 'closed', to: 'open' });
    for (let i = 0; i < 250; i++) channel.publish({ key: `k${i}`, from: 'open', to: 'closed' });
    const keys = new Set(
      points((await collected()).get('backoff.breaker.state')).map(
        ([attributes]) => attributes['backoff.breaker.key'],
      ),
    );
    expect(keys.size).toBe(250); // four points each: within the SDK's cardinality limit
    expect(keys.has('down')).toBe(true); // open: kept
    expect(keys.has('k0')).toBe(false); // the first to close: forgotten
    expect(keys.has('k249')).toBe(true);
  });
});

describe('no active span', () => {
  it('records the metrics and adds no event', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    await onException(constant, TypeError, { ...quiet, clock, interval: 1 })(async () => {
      calls += 1;
      if (calls < 2) throw new TypeError('x');
    })();
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(spans.getFinishedSpans()).toEqual([]);
    const metrics = await collected();
    expect(points(metrics.get('backoff.attempts')).map(([, value]) => value)).toEqual([1, 1]);
  });
});

describe('instrument() options', () => {
  it('refuses a filter that is not a function, naming it and the value', () => {
    expect(() => instrument({ filter: 5 as never })).toThrow(TypeError);
    expect(() => instrument({ filter: 5 as never })).toThrow(
      'Expected `filter` to be a function, got 5',
    );
  });
});

describe('what each metric and event says, pinned', () => {
  it('names, units, descriptions and the meter: as documented', async () => {
    const clock = new VirtualClock();
    const budget = tokenBucket();
    await onException(constant, TypeError, { ...quiet, clock, interval: 1, maxTries: 2, budget })(
      async () => {
        throw new TypeError('x');
      },
    )().catch(() => {});
    await reader.forceFlush();
    const [resource] = exporter.getMetrics();
    const [scope] = resource?.scopeMetrics ?? [];
    expect(scope?.scope).toEqual({
      name: 'backoff-ts',
      version: packageVersion,
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    });
    const descriptors = Object.fromEntries(
      (scope?.metrics ?? []).map(({ descriptor }) => [
        descriptor.name,
        [descriptor.unit, descriptor.description],
      ]),
    );
    expect(descriptors).toEqual({
      'backoff.attempts': ['{attempt}', 'Attempts of retrying operations, by outcome.'],
      'backoff.wait.duration': ['s', 'Waits before a retry.'],
      'backoff.giveups': ['{giveup}', 'Retrying operations that gave up, by reason.'],
      'backoff.budget.tokens': ['{token}', 'Tokens left in the retry budget of an operation.'],
      'backoff.attempt.duration': [
        's',
        'Attempts of retrying operations, by outcome and attempt number.',
      ],
      'backoff.call.duration': [
        's',
        'Calls of retrying operations, retries and waits included, by outcome.',
      ],
    });
    const waits = (scope?.metrics ?? []).find(
      ({ descriptor }) => descriptor.name === 'backoff.wait.duration',
    );
    const [point] = waits?.dataPoints ?? [];
    expect(
      (point?.value as { buckets: { boundaries: number[] } } | undefined)?.buckets.boundaries,
    ).toEqual([0, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);
    for (const name of ['backoff.attempt.duration', 'backoff.call.duration']) {
      const durations = (scope?.metrics ?? []).find(({ descriptor }) => descriptor.name === name);
      expect(
        (durations?.dataPoints[0]?.value as { buckets: { boundaries: number[] } } | undefined)
          ?.buckets.boundaries,
      ).toEqual([
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300,
      ]);
    }
  });

  it('error.type: the name, else the class of a class instance, else _OTHER; exception.message only as a string', async () => {
    const clock = new VirtualClock();
    class Busy {
      readonly code = 'E_BUSY';
    }
    /** Catches whatever is thrown (a class with `Symbol.hasInstance` is a matcher). */
    // biome-ignore lint/complexity/noStaticOnlyClass: the decorator takes an error class, so the matcher is one
    class Anything {
      static [Symbol.hasInstance](_value: unknown): boolean {
        return true;
      }
    }
    const thrown: unknown[] = [
      new RangeError('r'),
      { name: 'Custom', message: 42 },
      { code: 'E_BUSY' },
      new Busy(),
      { name: '' },
      Object.create(null),
      'a string',
      null,
    ];
    let index = 0;
    const wrapped = onException(constant, Anything, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: thrown.length,
    })(async () => {
      throw thrown[index++];
    });
    await inSpan(() => wrapped()).catch(() => {});
    const [span] = spans.getFinishedSpans();
    expect(
      span?.events.map(({ name, attributes }) => [
        name,
        attributes?.['error.type'],
        attributes?.['exception.message'],
      ]),
    ).toEqual([
      ['backoff.wait', 'RangeError', 'r'],
      ['backoff.wait', 'Custom', undefined],
      ['backoff.wait', '_OTHER', undefined],
      ['backoff.wait', 'Busy', undefined],
      ['backoff.wait', '_OTHER', undefined],
      ['backoff.wait', '_OTHER', undefined],
      ['backoff.wait', '_OTHER', undefined],
      ['backoff.giveup', '_OTHER', undefined],
    ]);
  });
});

describe('how points are kept apart, and what is left out', () => {
  it('one point per name, error type and outcome; no name and no error, no attribute', async () => {
    const clock = new VirtualClock();
    const failOnce = (error: unknown) => {
      let calls = 0;
      return async () => {
        calls += 1;
        if (calls === 1) throw error;
        return 'ok';
      };
    };
    const options = { ...quiet, clock, interval: 1 };
    await onException(constant, Error, { ...options, name: 'a' })(failOnce(new TypeError('t')))();
    await onException(constant, Error, { ...options, name: 'a' })(failOnce(new RangeError('r')))();
    await onException(constant, Error, { ...options, name: 'b' })(failOnce(new TypeError('t')))();
    // A predicate twin's failure is a value: no error.type.
    let polls = 0;
    await onPredicate(constant, (done: boolean) => !done, { ...options, name: 'poll' })(
      async () => {
        polls += 1;
        return polls > 1;
      },
    )();
    // The block form without a name: no backoff.name.
    let loops = 0;
    for await (const attempt of retryContext(TypeError, constant, options)) {
      await attempt.run(() => {
        loops += 1;
        if (loops === 1) throw new TypeError('once');
      });
    }
    const byName = await collected();
    expect(points(byName.get('backoff.attempts'))).toEqual([
      [{ 'backoff.name': 'a', 'error.type': 'TypeError', 'backoff.outcome': 'failure' }, 1],
      [{ 'backoff.name': 'a', 'backoff.outcome': 'success' }, 2],
      [{ 'backoff.name': 'a', 'error.type': 'RangeError', 'backoff.outcome': 'failure' }, 1],
      [{ 'backoff.name': 'b', 'error.type': 'TypeError', 'backoff.outcome': 'failure' }, 1],
      [{ 'backoff.name': 'b', 'backoff.outcome': 'success' }, 1],
      [{ 'backoff.name': 'poll', 'backoff.outcome': 'failure' }, 1],
      [{ 'backoff.name': 'poll', 'backoff.outcome': 'success' }, 1],
      [{ 'error.type': 'TypeError', 'backoff.outcome': 'failure' }, 1],
      [{ 'backoff.outcome': 'success' }, 1],
    ]);
  });

  it('a budget that reports no tokens has no gauge point, nor one that stops reporting them', async () => {
    // Delta temporality: each collection exports only what was observed in it.
    stop();
    const deltas = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const deltaReader = new PeriodicExportingMetricReader({
      exporter: deltas,
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ readers: [deltaReader] });
    stop = instrument({ meterProvider: provider });
    const gauge = async () => {
      deltas.reset();
      await deltaReader.forceFlush();
      const found = deltas
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .find(({ descriptor }) => descriptor.name === 'backoff.budget.tokens');
      return points(found);
    };
    try {
      const clock = new VirtualClock();
      let reportsTokens = true;
      const budget = {
        tryRetry: () => true,
        state: () => (reportsTokens ? { tokens: 7 } : { balance: 1 }),
      };
      const failOnce = () => {
        let calls = 0;
        return async () => {
          calls += 1;
          if (calls === 1) throw new TypeError('x');
        };
      };
      const options = { ...quiet, clock, interval: 1 };
      await onException(constant, TypeError, { ...options, name: 'tokens', budget })(failOnce())();
      await onException(constant, TypeError, { ...options, name: 'ratio', budget: ratio() })(
        failOnce(),
      )();
      expect(await gauge()).toEqual([[{ 'backoff.name': 'tokens' }, 7]]);
      reportsTokens = false;
      expect(await gauge()).toEqual([]);
      reportsTokens = true; // forgotten for good once it stopped reporting
      expect(await gauge()).toEqual([]);
    } finally {
      await provider.shutdown();
    }
  });

  it('spanEvents: false records the metrics and adds no event', async () => {
    stop();
    stop = instrument({ meterProvider, spanEvents: false });
    const clock = new VirtualClock();
    await inSpan(() =>
      onException(constant, TypeError, { ...quiet, clock, interval: 1, maxTries: 2 })(async () => {
        throw new TypeError('x');
      })(),
    ).catch(() => {});
    expect(spans.getFinishedSpans()[0]?.events).toEqual([]);
    expect(points((await collected()).get('backoff.giveups'))).toHaveLength(1);
  });

  it('a failing subscriber is reported once, as a BackoffTelemetryWarning with its code', async () => {
    stop();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      stop = instrument({
        meterProvider,
        filter: () => {
          throw new Error('bad filter');
        },
      });
      const clock = new VirtualClock();
      for (let i = 0; i < 3; i += 1) {
        await onException(constant, TypeError, { ...quiet, clock, interval: 1, maxTries: 2 })(
          async () => {
            throw new TypeError('x');
          },
        )().catch(() => {});
      }
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter(({ name }) => name === 'BackoffTelemetryWarning');
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatchObject({
        code: 'BACKOFF_TS_TELEMETRY_FAILED',
        message:
          'backoff-ts/otel: recording failed (Error: bad filter); it goes on, and its later failures are not reported',
      });
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('without a meterProvider it records to the global one', async () => {
    stop();
    globalMetrics.setGlobalMeterProvider(meterProvider);
    try {
      stop = instrument();
      await onException(constant, TypeError, { ...quiet, maxTries: 1 })(async () => {
        throw new TypeError('x');
      })().catch(() => {});
      expect(points((await collected()).get('backoff.giveups'))).toHaveLength(1);
    } finally {
      globalMetrics.disable();
    }
  });

  it('refuses to start where the runtime has no diagnostics channels', () => {
    stop();
    const host = globalThis.process as { getBuiltinModule?: unknown };
    const original = host.getBuiltinModule;
    host.getBuiltinModule = () => undefined;
    try {
      expect(() => instrument({ meterProvider })).toThrow(
        'backoff-ts/otel needs node:diagnostics_channel (process.getBuiltinModule: Node >= 20.16, Bun, Deno); this runtime has none',
      );
    } finally {
      host.getBuiltinModule = original;
    }
  });
});

describe('what otel leaves out, and what stop() ends', () => {
  /** A meter provider with delta temporality: each collection exports what was observed in it. */
  function deltaProvider() {
    const deltas = new InMemoryMetricExporter(AggregationTemporality.DELTA);
    const deltaReader = new PeriodicExportingMetricReader({
      exporter: deltas,
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ readers: [deltaReader] });
    const collect = async (name: string) => {
      deltas.reset();
      await deltaReader.forceFlush();
      const found = deltas
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .find(({ descriptor }) => descriptor.name === name);
      return points(found);
    };
    return { provider, collect };
  }

  it('no backoff.name attribute at all where the operation has no name', async () => {
    const clock = new VirtualClock();
    const budget = tokenBucket();
    let loops = 0;
    for await (const attempt of retryContext(TypeError, constant, { ...quiet, clock, budget })) {
      await attempt.run(() => {
        loops += 1;
        if (loops === 1) throw new TypeError('once');
      });
    }
    const byName = await collected();
    const attributes = [
      ...points(byName.get('backoff.attempts')),
      ...points(byName.get('backoff.budget.tokens')),
    ].map(([attrs]) => attrs);
    expect(attributes).toHaveLength(3);
    expect(attributes.some((attrs) => 'backoff.name' in attrs)).toBe(false);
  });

  it('an anonymous class’s instance is _OTHER', async () => {
    const clock = new VirtualClock();
    const Anonymous = (() => class {})();
    await inSpan(() =>
      onException(constant, Anonymous, { ...quiet, clock, maxTries: 1 })(async () => {
        throw new Anonymous();
      })(),
    ).catch(() => {});
    const [span] = spans.getFinishedSpans();
    expect(span?.events[0]?.attributes?.['error.type']).toBe('_OTHER');
  });

  it('budgets whose state() has no number of tokens, or no state(), record no gauge and break nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const clock = new VirtualClock();
      const budgets = [
        { tryRetry: () => true },
        { tryRetry: () => true, state: () => undefined },
        { tryRetry: () => true, state: () => ({ tokens: '7' }) },
      ];
      for (const [index, budget] of budgets.entries()) {
        let calls = 0;
        await onException(constant, TypeError, {
          ...quiet,
          clock,
          interval: 1,
          budget,
          name: `b${index}`,
        })(async () => {
          calls += 1;
          if (calls === 1) throw new TypeError('once');
        })();
      }
      await new Promise((resolve) => setImmediate(resolve));
      const byName = await collected();
      expect(points(byName.get('backoff.budget.tokens'))).toEqual([]);
      expect(points(byName.get('backoff.attempts'))).toHaveLength(6);
      expect(warnings.map(({ name }) => name)).not.toContain('BackoffTelemetryWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stop() ends the observations at the next collection; a second stop() does nothing', async () => {
    stop();
    const { provider, collect } = deltaProvider();
    stop = instrument({ meterProvider: provider });
    try {
      const clock = new VirtualClock();
      const budget = tokenBucket();
      await onException(constant, TypeError, { ...quiet, clock, maxTries: 1, budget })(async () => {
        throw new TypeError('x');
      })().catch(() => {});
      expect(await collect('backoff.attempts')).toHaveLength(1);
      expect(await collect('backoff.budget.tokens')).toHaveLength(1);
      stop();
      stop();
      expect(await collect('backoff.attempts')).toEqual([]);
      expect(await collect('backoff.giveups')).toEqual([]);
      expect(await collect('backoff.budget.tokens')).toEqual([]);
    } finally {
      await provider.shutdown();
    }
  });

  it('a budget collected by the GC leaves the gauge, without an error', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    stop();
    const { provider, collect } = deltaProvider();
    stop = instrument({ meterProvider: provider });
    try {
      const clock = new VirtualClock();
      const failing = (name: string, budget: object) =>
        onException(constant, TypeError, { ...quiet, clock, maxTries: 1, budget, name } as never)(
          async () => {
            throw new TypeError('x');
          },
        )().catch(() => {});
      await (async () => failing('gone', tokenBucket()))();
      const kept = tokenBucket({ capacity: 9 });
      await failing('kept', kept);
      for (let i = 0; i < 5; i += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      // The collected one is dropped; the one observed after it still is.
      expect(await collect('backoff.budget.tokens')).toEqual([[{ 'backoff.name': 'kept' }, 9]]);
    } finally {
      await provider.shutdown();
    }
  });
});

describe('filter, on every kind of point and event', () => {
  it('records nothing of an operation it leaves out: no attempt, wait, give-up or event', async () => {
    stop();
    stop = instrument({ meterProvider, filter: (name) => name !== 'dropped' });
    const clock = new VirtualClock();
    await inSpan(() =>
      onException(constant, TypeError, {
        ...quiet,
        clock,
        interval: 1,
        maxTries: 2,
        name: 'dropped',
      })(async () => {
        throw new TypeError('x');
      })(),
    ).catch(() => {});
    expect(spans.getFinishedSpans()[0]?.events).toEqual([]);
    const byName = await collected();
    for (const name of ['backoff.attempts', 'backoff.wait.duration', 'backoff.giveups']) {
      expect(byName.get(name)?.dataPoints ?? []).toEqual([]);
    }
  });
});

describe('durations, in seconds of the call’s clock', () => {
  /** A target taking `took[i]` seconds of `clock` on attempt i, failing with `errors[i]` if set. */
  function scripted(clock: FakeClock, took: number[], errors: unknown[]) {
    let calls = 0;
    return async function job() {
      clock.advance(took[calls] ?? 0);
      const error = errors[calls];
      calls += 1;
      if (error !== undefined) throw error;
      return calls;
    };
  }
  /** Each histogram point as [attributes, count, sum]. */
  const histogram = (metric: MetricData | undefined) =>
    (metric?.dataPoints ?? []).map((point) => {
      const { count, sum } = point.value as { count: number; sum: number };
      return [point.attributes, count, sum];
    });

  it('each attempt’s duration by outcome and number; the call’s duration', async () => {
    const clock = new FakeClock();
    const failure = new TypeError('busy');
    const job = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 2,
    })(scripted(clock, [0.5, 0.25, 1], [failure, failure]));
    expect(await job()).toBe(3);
    const metrics = await collected();
    expect(histogram(metrics.get('backoff.attempt.duration'))).toEqual([
      [
        {
          'backoff.name': 'job',
          'error.type': 'TypeError',
          'backoff.outcome': 'failure',
          'backoff.attempt': 1,
        },
        1,
        0.5,
      ],
      [
        {
          'backoff.name': 'job',
          'error.type': 'TypeError',
          'backoff.outcome': 'failure',
          'backoff.attempt': 2,
        },
        1,
        0.25,
      ],
      [{ 'backoff.name': 'job', 'backoff.outcome': 'success', 'backoff.attempt': 3 }, 1, 1],
    ]);
    // 0.5 + 2 (wait) + 0.25 + 2 (wait) + 1
    expect(histogram(metrics.get('backoff.call.duration'))).toEqual([
      [{ 'backoff.name': 'job', 'backoff.outcome': 'success' }, 1, 5.75],
    ]);
  });

  it('every way a call ends is one call point: success, give-up, error, abort', async () => {
    const clock = new FakeClock();
    const options = { ...quiet, clock, interval: 1 };
    const busy = new TypeError('busy');
    // success at once
    await onException(constant, TypeError, { ...options, name: 'ok' })(scripted(clock, [1], []))();
    // give-up: maxTries
    await onException(constant, TypeError, { ...options, name: 'spent', maxTries: 2 })(
      scripted(clock, [1, 1], [busy, busy]),
    )().catch(() => {});
    // an error it does not retry
    await onException(constant, TypeError, { ...options, name: 'bug' })(
      scripted(clock, [0.5], [new RangeError('bug')]),
    )().catch(() => {});
    // an abort during an attempt whose error it does not retry: aborted all the same
    const controller = new AbortController();
    await onException(constant, TypeError, {
      ...options,
      name: 'cancelled',
      signal: controller.signal,
    })(async () => {
      clock.advance(2);
      controller.abort();
      throw controller.signal.reason;
    })().catch(() => {});
    // an abort during a wait: the last attempt's end is the call's
    const waiting = new AbortController();
    await onException(constant, TypeError, {
      ...options,
      name: 'waiting',
      signal: waiting.signal,
      interval: 60,
      clock: { now: () => clock.now(), sleep: async () => waiting.abort(), sleepSync: () => {} },
    })(scripted(clock, [0.25], [busy]))().catch(() => {});
    // a signal aborted before the call: no attempt, a give-up at 0 s
    await onException(constant, TypeError, {
      ...options,
      name: 'never',
      signal: AbortSignal.abort(),
    })(scripted(clock, [1], []))().catch(() => {});
    // a handler that throws ends the call with its error: no call point (nor a give-up)
    await onException(constant, TypeError, {
      ...options,
      name: 'handler',
      onBackoff: () => {
        throw new Error('handler bug');
      },
    })(scripted(clock, [1, 1], [busy]))().catch(() => {});
    const metrics = await collected();
    expect(histogram(metrics.get('backoff.call.duration'))).toEqual([
      [{ 'backoff.name': 'ok', 'backoff.outcome': 'success' }, 1, 1],
      [
        {
          'backoff.name': 'spent',
          'error.type': 'TypeError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'maxTries',
        },
        1,
        3,
      ],
      [{ 'backoff.name': 'bug', 'error.type': 'RangeError', 'backoff.outcome': 'error' }, 1, 0.5],
      [
        {
          'backoff.name': 'cancelled',
          'error.type': 'AbortError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'aborted',
        },
        1,
        2,
      ],
      [
        {
          'backoff.name': 'waiting',
          'error.type': 'AbortError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'aborted',
        },
        1,
        0.25,
      ],
      [
        {
          'backoff.name': 'never',
          'error.type': 'AbortError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'aborted',
        },
        1,
        0,
      ],
    ]);
    expect(
      points(metrics.get('backoff.giveups')).map(([attributes]) => attributes['backoff.name']),
    ).toEqual(['spent', 'cancelled', 'waiting', 'never']);
    // The handler's call: its one attempt is counted; the call has no end point.
    expect(
      points(metrics.get('backoff.attempts')).filter(
        ([attributes]) => attributes['backoff.name'] === 'handler',
      ),
    ).toEqual([
      [{ 'backoff.name': 'handler', 'error.type': 'TypeError', 'backoff.outcome': 'failure' }, 1],
    ]);
  });

  it('free failures and breakers end calls as call points too: maxFreeTries, breakerOpen', async () => {
    const clock = new FakeClock();
    const options = { ...quiet, clock, interval: 1 };
    const busy = new TypeError('busy');
    await onException(constant, TypeError, {
      ...options,
      name: 'free',
      free: TypeError,
      maxFreeTries: 1,
    })(scripted(clock, [1, 1], [busy, busy]))().catch(() => {});
    await onException(constant, TypeError, {
      ...options,
      name: 'open',
      maxTime: 10,
      breaker: { acquire: () => ({ ok: false, retryAfter: 60 }) },
    })(scripted(clock, [1], []))().catch(() => {});
    const metrics = await collected();
    expect(histogram(metrics.get('backoff.call.duration'))).toEqual([
      [
        {
          'backoff.name': 'free',
          'error.type': 'TypeError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'maxFreeTries',
        },
        1,
        3,
      ],
      [
        {
          'backoff.name': 'open',
          'error.type': 'BreakerOpenError',
          'backoff.outcome': 'giveup',
          'backoff.giveup.reason': 'breakerOpen',
        },
        1,
        0,
      ],
    ]);
  });
});

describe('events as log records, the default', () => {
  it('wait and give-up records on the logger backoff-ts, correlated with the active span; no span event', async () => {
    stop();
    stop = instrument({ meterProvider, loggerProvider });
    const clock = new VirtualClock();
    const wrapped = onException(constant, TypeError, {
      ...quiet,
      clock,
      interval: 1,
      maxTries: 2,
      name: 'sync',
    })(async () => {
      throw new TypeError('down');
    });
    let traceId: string | undefined;
    await inSpan(() => {
      traceId = trace.getActiveSpan()?.spanContext().traceId;
      return wrapped();
    }).catch(() => {});
    expect(spans.getFinishedSpans()[0]?.events).toEqual([]);
    const records = logRecords.getFinishedLogRecords();
    expect(
      records.map((record) => [
        record.eventName,
        record.severityNumber,
        record.severityText,
        record.attributes,
        record.spanContext?.traceId,
        record.instrumentationScope,
      ]),
    ).toEqual([
      [
        'backoff.wait',
        SeverityNumber.INFO,
        'INFO',
        {
          'backoff.name': 'sync',
          'error.type': 'TypeError',
          'backoff.attempt': 1,
          'backoff.wait.duration': 1,
          'exception.message': 'down',
        },
        traceId,
        {
          name: 'backoff-ts',
          version: packageVersion,
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        },
      ],
      [
        'backoff.giveup',
        SeverityNumber.WARN,
        'WARN',
        {
          'backoff.name': 'sync',
          'error.type': 'TypeError',
          'backoff.attempt': 2,
          'backoff.giveup.reason': 'maxTries',
          'exception.message': 'down',
        },
        traceId,
        {
          name: 'backoff-ts',
          version: packageVersion,
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        },
      ],
    ]);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('logEvents: false emits none; the metrics stay', async () => {
    stop();
    stop = instrument({ meterProvider, loggerProvider, logEvents: false });
    await onException(constant, TypeError, { ...quiet, clock: new VirtualClock(), maxTries: 2 })(
      async () => {
        throw new TypeError('x');
      },
    )().catch(() => {});
    expect(logRecords.getFinishedLogRecords()).toEqual([]);
    expect(points((await collected()).get('backoff.giveups'))).toHaveLength(1);
  });

  it('refuses options of the wrong type, naming them', () => {
    stop();
    expect(() => instrument({ logEvents: 'yes' as never })).toThrow(
      'Expected `logEvents` to be a boolean, got "yes"',
    );
    expect(() => instrument({ spanEvents: 1 as never })).toThrow(TypeError);
    expect(() => instrument(7 as never)).toThrow(
      'Expected `options` to be an options object, got 7',
    );
    expect(() => new BackoffInstrumentation({ enabled: 'no' as never })).toThrow(
      'Expected `enabled` to be a boolean, got "no"',
    );
  });
});

describe('one recorder at a time, in any order with the SDK', () => {
  it('a second instrument() is refused rather than count twice; after stop() it may start', async () => {
    expect(() => instrument({ meterProvider })).toThrow(
      'backoff-ts/otel is already recording (instrument() or a BackoffInstrumentation): a second would count every attempt twice; disable the first',
    );
    await onException(constant, TypeError, {
      ...quiet,
      clock: new VirtualClock(),
      interval: 1,
      maxTries: 3,
    })(
      (() => {
        let calls = 0;
        return async () => {
          calls += 1;
          if (calls < 3) throw new TypeError('x');
        };
      })(),
    )();
    const waits = (await collected()).get('backoff.wait.duration');
    expect(waits?.dataPoints[0]?.value).toMatchObject({ count: 2 });
    stop();
    stop = instrument({ meterProvider });
  });

  it('BackoffInstrumentation: the Instrumentation shape; enable and disable are idempotent', async () => {
    stop();
    const instrumentation = new BackoffInstrumentation({ enabled: false });
    expect(instrumentation.instrumentationName).toBe('backoff-ts');
    expect(instrumentation.instrumentationVersion).toBe(packageVersion);
    expect(instrumentation.getConfig().enabled).toBe(false);
    expect(diagnostics.channel(CHANNELS.attempt).hasSubscribers).toBe(false);
    instrumentation.setMeterProvider(meterProvider);
    instrumentation.setLoggerProvider(loggerProvider);
    instrumentation.setTracerProvider(tracerProvider);
    instrumentation.enable();
    instrumentation.enable();
    expect(instrumentation.getConfig().enabled).toBe(true);
    await onException(constant, TypeError, { ...quiet, maxTries: 1 })(async () => {
      throw new TypeError('x');
    })().catch(() => {});
    expect(points((await collected()).get('backoff.giveups'))).toEqual([
      [{ 'error.type': 'TypeError', 'backoff.giveup.reason': 'maxTries' }, 1],
    ]);
    instrumentation.setConfig({ logEvents: false });
    expect(instrumentation.getConfig()).toEqual({ logEvents: false, enabled: true });
    instrumentation.disable();
    instrumentation.disable();
    expect(instrumentation.getConfig().enabled).toBe(false);
    expect(diagnostics.channel(CHANNELS.attempt).hasSubscribers).toBe(false);
    stop = instrument({ meterProvider });
  });

  it('instrument() before the global meter provider is set records to it once it is', async () => {
    stop();
    globalMetrics.disable();
    stop = instrument({ loggerProvider });
    const fail = onException(constant, TypeError, { ...quiet, maxTries: 1, name: 'early' })(
      async () => {
        throw new TypeError('x');
      },
    );
    await fail().catch(() => {}); // before the SDK: the no-op provider
    globalMetrics.setGlobalMeterProvider(meterProvider);
    try {
      await fail().catch(() => {});
      await fail().catch(() => {});
      expect(points((await collected()).get('backoff.giveups'))).toEqual([
        [
          {
            'backoff.name': 'early',
            'error.type': 'TypeError',
            'backoff.giveup.reason': 'maxTries',
          },
          2,
        ],
      ]);
    } finally {
      globalMetrics.disable();
    }
  });
});

describe('retryFetch’s points follow the HTTP conventions', () => {
  it('error.type is the status code; method, server address and port are attributes', async () => {
    let calls = 0;
    const statuses = [503, 503, 200];
    const fetch = async () => new Response(null, { status: statuses[calls++] ?? 200 });
    const request = retryFetch({ fetch, clock: new VirtualClock(), logger: null });
    const response = await inSpan(() =>
      request('http://api.example.test:8080/v1/items', { method: 'put' }),
    );
    expect(response.status).toBe(200);
    const http = {
      'http.request.method': 'PUT',
      'server.address': 'api.example.test',
      'server.port': 8080,
    };
    expect(points((await collected()).get('backoff.attempts'))).toEqual([
      [{ ...http, 'backoff.name': 'fetch', 'error.type': '503', 'backoff.outcome': 'failure' }, 2],
      [{ ...http, 'backoff.name': 'fetch', 'backoff.outcome': 'success' }, 1],
    ]);
    const [record] = logRecords.getFinishedLogRecords();
    expect(record?.attributes).toMatchObject({ ...http, 'error.type': '503' });
  });

  it('a method outside the conventions is _OTHER; the default port is the scheme’s', async () => {
    const fetch = async () => new Response(null, { status: 200 });
    const request = retryFetch({ fetch, logger: null });
    await request('https://[::1]/x', { method: 'PURGE' });
    await request(new Request('http://example.test/y'));
    expect(
      points((await collected()).get('backoff.attempts')).map(([attributes]) => attributes),
    ).toEqual([
      {
        'http.request.method': '_OTHER',
        'server.address': '::1',
        'server.port': 443,
        'backoff.name': 'fetch',
        'backoff.outcome': 'success',
      },
      {
        'http.request.method': 'GET',
        'server.address': 'example.test',
        'server.port': 80,
        'backoff.name': 'fetch',
        'backoff.outcome': 'success',
      },
    ]);
  });
});

describe('the edges of the instrumentation', () => {
  it('error.type: HttpError by its status only with a numeric status; a status alone is no HttpError', async () => {
    const clock = new VirtualClock();
    // biome-ignore lint/complexity/noStaticOnlyClass: the decorator takes an error class, so the matcher is one
    class Anything {
      static [Symbol.hasInstance](_value: unknown): boolean {
        return true;
      }
    }
    const thrown = [
      { name: 'HttpError', status: '503' },
      { name: 'TypeError', status: 500 },
      { name: 'HttpError', status: 429 },
    ];
    let index = 0;
    await inSpan(() =>
      onException(constant, Anything, { ...quiet, clock, interval: 1, maxTries: 3 })(async () => {
        throw thrown[index++];
      })(),
    ).catch(() => {});
    expect(
      spans.getFinishedSpans()[0]?.events.map((event) => event.attributes?.['error.type']),
    ).toEqual(['HttpError', 'TypeError', '429']);
  });

  it('setLoggerProvider: the records go to the provider set last', async () => {
    stop();
    const other = new InMemoryLogRecordExporter();
    const otherProvider = new LoggerProvider({
      processors: [new SimpleLogRecordProcessor({ exporter: other })],
    });
    const instrumentation = new BackoffInstrumentation({ meterProvider });
    stop = () => instrumentation.disable();
    const giveUp = onException(constant, TypeError, { ...quiet, maxTries: 1, name: 'g' })(
      async () => {
        throw new TypeError('x');
      },
    );
    instrumentation.setLoggerProvider(loggerProvider);
    await giveUp().catch(() => {});
    instrumentation.setLoggerProvider(otherProvider);
    await giveUp().catch(() => {});
    expect(logRecords.getFinishedLogRecords().map((record) => record.eventName)).toEqual([
      'backoff.giveup',
    ]);
    expect(other.getFinishedLogRecords().map((record) => record.eventName)).toEqual([
      'backoff.giveup',
    ]);
  });

  it('without a logger provider, the global one of the Logs API, set before or after', async () => {
    stop();
    stop = instrument({ meterProvider });
    const giveUp = onException(constant, TypeError, { ...quiet, maxTries: 1 })(async () => {
      throw new TypeError('x');
    });
    await giveUp().catch(() => {}); // no global provider yet: the API's no-op
    globalLogs.setGlobalLoggerProvider(loggerProvider);
    try {
      await giveUp().catch(() => {});
      expect(logRecords.getFinishedLogRecords().map((record) => record.eventName)).toEqual([
        'backoff.giveup',
      ]);
    } finally {
      globalLogs.disable();
    }
  });

  it('refuses null options, naming them', () => {
    stop();
    expect(() => instrument(null as never)).toThrow(
      'Expected `options` to be an options object, got null',
    );
  });

  it('one name with a budget and without: the gauge keeps the budget, nothing fails', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const budget = tokenBucket({ capacity: 7 });
      const options = { ...quiet, maxTries: 1, name: 'shared' };
      const fail = async () => {
        throw new TypeError('x');
      };
      await onException(constant, TypeError, { ...options, budget })(fail)().catch(() => {});
      await onException(constant, TypeError, options)(fail)().catch(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      expect(points((await collected()).get('backoff.budget.tokens'))).toEqual([
        [{ 'backoff.name': 'shared' }, 7],
      ]);
      expect(warnings.map(({ name }) => name)).not.toContain('BackoffTelemetryWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a call already running when recording starts: no attempt duration for it, no complaint', async () => {
    stop();
    stop = () => {};
    let calls = 0;
    const clock = new VirtualClock();
    await onException(constant, TypeError, { ...quiet, clock, interval: 1, name: 'late' })(
      async () => {
        calls += 1;
        if (calls === 1) {
          stop = instrument({ meterProvider, loggerProvider });
          throw new TypeError('first');
        }
      },
    )();
    const metrics = await collected();
    expect(points(metrics.get('backoff.attempts')).map(([, value]) => value)).toEqual([1, 1]);
    expect(metrics.get('backoff.attempt.duration')).toBeUndefined();
  });
});
