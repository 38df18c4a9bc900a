// Section 7 of npm run bench: what telemetry costs. The success path and the retry path of one
// decorator with no subscriber, with a diagnostics_channel subscriber on every channel, and with
// backoff-ts/otel on the OpenTelemetry SDK (metrics to an exporter that drops them, the events as
// log records to a processor that drops them, in a recording span), as ratios to the bare call.
import diagnostics from 'node:diagnostics_channel';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as backoff from '../dist/index.js';
import { instrument } from '../dist/otel.js';

/** A log record processor that keeps nothing. */
const dropRecords = { onEmit: () => {}, forceFlush: async () => {}, shutdown: async () => {} };

const dropAll = {
  export: (_metrics, done) => done({ code: 0 }),
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** The three ways of listening: each returns the function that stops it. */
const modes = {
  'no subscriber': () => () => {},
  diagnostics_channel: () => {
    const noop = () => {};
    const names = [backoff.CHANNELS.attempt, backoff.CHANNELS.wait, backoff.CHANNELS.giveup];
    for (const name of names) diagnostics.subscribe(name, noop);
    const tracing = diagnostics.tracingChannel(backoff.CHANNELS.call);
    const handlers = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
    tracing.subscribe(handlers);
    return () => {
      for (const name of names) diagnostics.unsubscribe(name, noop);
      tracing.unsubscribe(handlers);
    };
  },
  OpenTelemetry: () => {
    const meterProvider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({ exporter: dropAll, exportIntervalMillis: 1_000 }),
      ],
    });
    const loggerProvider = new LoggerProvider({ processors: [dropRecords] });
    const stop = instrument({ meterProvider, loggerProvider });
    return () => {
      stop();
      void meterProvider.shutdown();
      void loggerProvider.shutdown();
    };
  },
};

export async function telemetry(table) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracer = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] }).getTracer(
    'bench',
  );
  const N = 500_000;
  const target = async (x) => x + 1;
  const success = backoff.onException(backoff.expo, Error, { maxTries: 5 })(target);
  const failure = new Error('flaky');
  const flaky = backoff.onException(backoff.constant, Error, { interval: 0, maxTries: 3 })(
    async (state) => {
      state.calls += 1;
      if (state.calls < 3) throw failure;
      return state.calls;
    },
  );
  const timeSuccess = async (fn) => {
    const start = process.hrtime.bigint();
    let sum = 0;
    for (let i = 0; i < N; i++) sum += await fn(i);
    if (sum === 0) throw new Error('unreachable');
    return Number(process.hrtime.bigint() - start) / N;
  };
  const timeRetry = async () => {
    const calls = 10_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await flaky({ calls: 0 });
    return Number(process.hrtime.bigint() - start) / calls / 1000;
  };
  const best = {};
  const keep = (key, value) => {
    best[key] = Math.min(best[key] ?? Number.POSITIVE_INFINITY, value);
  };
  for (let round = 0; round < 3; round++) {
    await tracer.startActiveSpan('request', async (span) => {
      keep('bare success', await timeSuccess(target));
      span.end();
    });
    for (const [name, start] of Object.entries(modes)) {
      const stop = start();
      // Inside a recording span, as a request handler would be: the span events are real.
      await tracer.startActiveSpan('request', async (span) => {
        keep(`${name} success`, await timeSuccess(success));
        keep(`${name} retry`, await timeRetry());
        span.end();
      });
      stop();
    }
  }
  context.disable();
  trace.disable();
  table(
    '7. Telemetry: the success path (a first attempt that succeeds) by who listens',
    'ns',
    [{ name: 'bare', value: best['bare success'] }].concat(
      Object.keys(modes).map((name) => ({ name, value: best[`${name} success`] })),
    ),
  );
  table(
    '   and the retry path (two failures, zero waits), against no subscriber',
    'µs',
    Object.keys(modes).map((name, index) => ({
      name: index === 0 ? 'bare' : name,
      value: best[`${name} retry`],
      extra: index === 0 ? '(no subscriber)' : '',
    })),
    2,
  );
}
