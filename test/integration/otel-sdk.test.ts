// backoff-ts/otel in the setup OpenTelemetry users write: NodeSDK with in-memory exporters and the
// undici instrumentation, in each order (BackoffInstrumentation listed in the SDK; instrument()
// before sdk.start(); after it). Each runs in a process of its own (test/fixtures/otel-sdk.mjs):
// the SDK sets globals that cannot be unset between tests.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../fixtures/otel-sdk.mjs', import.meta.url));

interface Point {
  attributes: Record<string, unknown>;
  value: number | { count: number; sum: number };
}
interface Result {
  hits: number;
  traceId: string;
  metrics: Record<string, { unit: string; points: Point[] }> & {
    scope: { name: string; version: string; schemaUrl: string };
  };
  spans: {
    name: string;
    traceId: string;
    parent?: string;
    status?: number;
    errorType?: string;
    events: number;
  }[];
  logs: { eventName: string; traceId: string; attributes: Record<string, unknown> }[];
}

async function run(mode: string): Promise<Result> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [fixture, mode], {
    timeout: 60_000,
  });
  // A runtime warning is a failure.
  expect(stderr).toBe('');
  return JSON.parse(stdout) as Result;
}

describe.each(['instrumentation', 'instrument-first', 'sdk-first'])('NodeSDK, %s', (mode) => {
  it('every metric and event, with the documented names, units and attributes', async () => {
    const result = await run(mode);
    expect(result.hits).toBe(3);
    const { scope, ...metrics } = result.metrics;
    expect(scope).toEqual({
      name: 'backoff-ts',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    });
    expect(
      Object.fromEntries(Object.entries(metrics).map(([name, { unit }]) => [name, unit])),
    ).toEqual({
      'backoff.attempts': '{attempt}',
      'backoff.attempt.duration': 's',
      'backoff.call.duration': 's',
      'backoff.wait.duration': 's',
      'backoff.budget.tokens': '{token}',
    });

    // The HTTP spans of the undici instrumentation, under the caller's span; none of backoff-ts.
    const http = result.spans.filter(({ name }) => name === 'GET');
    expect(http.map(({ status, parent }) => [status, parent])).toEqual([
      [503, 'checkout'],
      [503, 'checkout'],
      [200, 'checkout'],
    ]);
    expect(result.spans.map(({ name }) => name).sort()).toEqual(['GET', 'GET', 'GET', 'checkout']);
    expect(result.spans.every(({ events }) => events === 0)).toBe(true);

    // retryFetch's attempts: error.type as the HTTP spans of the same trace say it.
    const fetchAttempts = metrics['backoff.attempts']?.points.filter(
      ({ attributes }) => attributes['backoff.name'] === 'fetch',
    );
    const failed = http.find(({ status }) => status === 503);
    expect(failed?.errorType).toBe('503');
    expect(
      fetchAttempts?.map(({ attributes, value }) => [
        attributes['error.type'],
        attributes['backoff.outcome'],
        value,
      ]),
    ).toEqual([
      [failed?.errorType, 'failure', 2],
      [undefined, 'success', 1],
    ]);
    for (const { attributes } of fetchAttempts ?? []) {
      expect(attributes).toMatchObject({
        'http.request.method': 'GET',
        'server.address': '127.0.0.1',
        'server.port': expect.any(Number),
      });
    }
    // Attempts per call, as the attempt durations count them.
    const attempts = metrics['backoff.attempt.duration']?.points.map(({ attributes }) => [
      attributes['backoff.name'],
      attributes['backoff.attempt'],
      attributes['backoff.outcome'],
    ]);
    expect(attempts).toEqual([
      ['fetch', 1, 'failure'],
      ['fetch', 2, 'failure'],
      ['fetch', 3, 'success'],
      ['billing.charge', 1, 'failure'],
      ['billing.charge', 2, 'success'],
    ]);
    expect(metrics['backoff.call.duration']?.points.map(({ value }) => value)).toEqual([
      { count: 1, sum: expect.any(Number) },
      { count: 1, sum: expect.any(Number) },
    ]);
    expect(metrics['backoff.budget.tokens']?.points).toEqual([
      { attributes: { 'backoff.name': 'billing.charge' }, value: 10 },
    ]);

    // The waits as log records in the caller's trace.
    expect(
      result.logs.map(({ eventName, traceId, attributes }) => [
        eventName,
        traceId === result.traceId,
        attributes['backoff.name'],
        attributes['backoff.attempt'],
      ]),
    ).toEqual([
      ['backoff.wait', true, 'fetch', 1],
      ['backoff.wait', true, 'fetch', 2],
      ['backoff.wait', true, 'billing.charge', 1],
    ]);
  });
});
