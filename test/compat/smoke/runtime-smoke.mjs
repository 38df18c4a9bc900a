// The smoke suite for the runtimes besides Node (Bun, Deno): the built package, as they load it.
// Run: bun test/compat/smoke/runtime-smoke.mjs · deno run --allow-read --allow-run --allow-env --allow-net=127.0.0.1 test/compat/smoke/runtime-smoke.mjs
// It prints one line per check and exits non-zero at the first failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { retryFetch } from '../../../dist/fetch.js';
import * as backoff from '../../../dist/index.js';
import { VirtualClock } from '../../../dist/testing.js';

const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';
const checks = [];
const check = (name, fn) => checks.push([name, fn]);

check('async retries', async () => {
  let calls = 0;
  const clock = new VirtualClock();
  const wrapped = backoff.onException(backoff.expo, TypeError, {
    clock,
    jitter: null,
    logger: null,
  })(async () => {
    calls += 1;
    if (calls < 3) throw new TypeError('flaky');
    return calls;
  });
  assert.equal(await wrapped(), 3);
  assert.deepEqual(clock.sleeps, [1, 2]);
});

check('sync retries, blocking with Atomics.wait', () => {
  let calls = 0;
  const started = performance.now();
  const parse = backoff.onExceptionSync(backoff.constant, SyntaxError, {
    interval: 0.02,
    jitter: null,
    logger: null,
  })((text) => {
    calls += 1;
    return JSON.parse(calls < 2 ? '{' : text);
  });
  assert.deepEqual(parse('[1]'), [1]);
  assert.ok(performance.now() - started >= 19, 'the sync twin slept');
});

check('a signal aborts a pending wait', async () => {
  const controller = new AbortController();
  const wrapped = backoff.onException(backoff.constant, Error, {
    interval: 60,
    logger: null,
    signal: controller.signal,
  })(async () => {
    throw new Error('down');
  });
  const pending = wrapped();
  setTimeout(() => controller.abort(new Error('stop')), 10);
  await assert.rejects(pending, /stop/);
});

check('retryContext', async () => {
  let tries = 0;
  for await (const attempt of backoff.retryContext(RangeError, backoff.constant, {
    interval: 0,
    logger: null,
  })) {
    await attempt.run(() => {
      tries += 1;
      if (tries < 2) throw new RangeError('again');
    });
  }
  assert.equal(tries, 2);
});

check('a per-attempt timeout aborts the attempt signal', async () => {
  let first;
  let calls = 0;
  const wrapped = backoff.onException(backoff.constant, Error, {
    interval: 0,
    timeout: 0.05,
    logger: null,
  })(async () => {
    const signal = backoff.attemptSignal();
    calls += 1;
    if (calls === 1) {
      first = signal;
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    }
    return calls;
  });
  assert.equal(await wrapped(), 2);
  assert.ok(first.reason instanceof backoff.AttemptTimeoutError);
});

check("require('backoff-ts')", () => {
  const require = createRequire(import.meta.url);
  const loaded = require('../../../dist/index.js');
  assert.equal(typeof loaded.onException, 'function');
  assert.equal(typeof loaded.expo, 'function');
});

check('the CLI', () => {
  const bin = fileURLToPath(new URL('../../../dist/bin.js', import.meta.url));
  const command = runtime === 'deno' ? ['run', '--allow-all', bin] : [bin];
  const result = spawnSync(
    process.execPath,
    [
      ...command,
      '--max-tries',
      '3',
      '--wait',
      'constant',
      '--interval',
      '0',
      '--',
      'sh',
      '-c',
      'exit 3',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stderr, /Giving up .* after 3 tries/);
  const ok = spawnSync(process.execPath, [...command, '--', 'sh', '-c', 'echo fine'], {
    encoding: 'utf8',
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'fine\n');
  // --until reads the output: a run ends when the command exits, though a job it left in the
  // background holds the pipe (killed here by its PID, as the job would outlive the tool).
  const started = performance.now();
  const until = spawnSync(
    process.execPath,
    [
      ...command,
      '--until',
      'ready',
      '--',
      'sh',
      '-c',
      'sleep 20 2>/dev/null & echo $!; echo ready',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(until.status, 0, until.stderr);
  const [job, ready] = until.stdout.split('\n');
  process.kill(Number(job), 'SIGKILL');
  assert.equal(ready, 'ready');
  assert.ok(performance.now() - started < 15_000);
});

check(
  'retryFetch retries this runtime’s network errors: a reset, a refused connection',
  async () => {
    // A raw TCP server: the first connection is reset, the next ones get a 200.
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      socket.once('data', () => {
        if (connections === 1) socket.resetAndDestroy();
        else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    const clock = new VirtualClock();
    try {
      const response = await retryFetch({ clock, logger: null })(`http://127.0.0.1:${port}/`);
      assert.equal(await response.text(), 'ok');
      assert.equal(connections, 2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // Nothing listens on the port now: refused, every time, and each one retried.
    const refused = await retryFetch({ clock, logger: null, maxTries: 2 })(
      `http://127.0.0.1:${port}/`,
    ).catch((error) => error);
    assert.ok(backoff.isNetworkError(refused), String(refused));
    assert.equal(clock.sleeps.length, 2);
  },
);

check('retryFetch with one try sends what this runtime’s fetch sends', async () => {
  const seen = [];
  const server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      if (request.url === '/silent') return;
      // A multipart boundary is random per request: the same bytes but for it.
      const type = request.headers['content-type'] ?? '';
      const boundary = /boundary=(.+)$/.exec(type)?.[1] ?? '\u0000';
      seen.push([
        request.method,
        request.url,
        type.replaceAll(boundary, 'B'),
        body.replaceAll(boundary, 'B'),
      ]);
      response.writeHead(request.url === '/busy' ? 503 : 200);
      response.end(`answer ${request.method}`);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const once = retryFetch({ maxTries: 1, logger: null });
  const cases = [
    () => [`${base}/plain`],
    () => [`${base}/busy`],
    () => [`${base}/s`, { method: 'POST', body: 'text' }],
    () => [`${base}/u`, { method: 'PUT', body: new URLSearchParams({ a: '1' }) }],
    () => [`${base}/i`, Object.create({ method: 'PUT', body: '{"a":1}' })],
    () => [new Request(`${base}/r`, { method: 'PUT', body: 'request body' })],
    () => [`${base}/b`, { method: 'PUT', body: new Blob(['blob'], { type: 'x/y' }) }],
    () => {
      const data = new FormData();
      data.set('field', 'value');
      return [`${base}/f`, { method: 'POST', body: data }];
    },
    () => [
      `${base}/st`,
      {
        method: 'POST',
        duplex: 'half',
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('streamed'));
            controller.close();
          },
        }),
      },
    ],
  ];
  try {
    for (const make of cases) {
      seen.length = 0;
      const plain = await fetch(...make());
      const retried = await once(...make());
      assert.deepEqual(
        [retried.status, await retried.text(), seen[1]],
        [plain.status, await plain.text(), seen[0]],
      );
    }
    // An abort before the call and one in flight: the same reason, both ways.
    for (const call of [fetch, once]) {
      const before = new Error('before');
      assert.equal(
        await call(`${base}/x`, { signal: AbortSignal.abort(before) }).catch((e) => e),
        before,
      );
      const controller = new AbortController();
      const inFlight = new Error('in flight');
      const pending = call(`${base}/silent`, { signal: controller.signal }).catch((e) => e);
      setTimeout(() => controller.abort(inFlight), 50);
      assert.equal(await pending, inFlight);
    }
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
});

check(
  'backoff-ts/redis: a budget and a fleet breaker on a redis-server, through ioredis',
  async () => {
    const { redisCircuitBreaker, redisTokenBucket } = await import('../../../dist/redis.js');
    const { Redis } = await import('ioredis');
    const { freePort, startRedis } = await import('../../fixtures/redis-process.mjs');
    const port = await freePort();
    const server = await startRedis(port);
    const client = new Redis({ port, host: '127.0.0.1' });
    try {
      const budget = redisTokenBucket(client, { key: 'smoke:budget' });
      assert.equal(await budget.tryRetry({ tries: 1, outcome: new Error('x') }), true);
      assert.equal(await client.get('smoke:budget'), '495');
      const options = { key: 'smoke:breaker', trip: backoff.consecutive(1), halfOpenAfter: 5 };
      const [a, b] = [redisCircuitBreaker(client, options), redisCircuitBreaker(client, options)];
      const granted = await a.acquire();
      assert.equal(granted.ok, true);
      await granted.permit.failure(new Error('down'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await b.acquire();
      assert.equal(refused.ok, false);
      assert.ok(refused.retryAfter > 4 && refused.retryAfter <= 5);
    } finally {
      client.disconnect();
      server.kill('SIGKILL');
    }
  },
);

check('OpenTelemetry: metrics and log records from backoff-ts/otel', async () => {
  const { instrument } = await import('../../../dist/otel.js');
  const metricsSdk = await import('@opentelemetry/sdk-metrics');
  const logsSdk = await import('@opentelemetry/sdk-logs');
  const exporter = new metricsSdk.InMemoryMetricExporter(
    metricsSdk.AggregationTemporality.CUMULATIVE,
  );
  const reader = new metricsSdk.PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new metricsSdk.MeterProvider({ readers: [reader] });
  const records = new logsSdk.InMemoryLogRecordExporter();
  const loggerProvider = new logsSdk.LoggerProvider({
    processors: [new logsSdk.SimpleLogRecordProcessor({ exporter: records })],
  });
  const stop = instrument({ meterProvider, loggerProvider });
  try {
    let calls = 0;
    const clock = new VirtualClock();
    const wrapped = backoff.onException(backoff.constant, TypeError, {
      clock,
      interval: 2,
      jitter: null,
      logger: null,
      name: 'smoke',
    })(async () => {
      calls += 1;
      if (calls < 2) throw new TypeError('flaky');
      return calls;
    });
    assert.equal(await wrapped(), 2);
    await reader.forceFlush();
    const metrics = exporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics)
      .flatMap((scope) => scope.metrics);
    const attempts = metrics.find(({ descriptor }) => descriptor.name === 'backoff.attempts');
    assert.deepEqual(
      attempts?.dataPoints.map(({ attributes, value }) => [attributes['backoff.outcome'], value]),
      [
        ['failure', 1],
        ['success', 1],
      ],
    );
    const call = metrics.find(({ descriptor }) => descriptor.name === 'backoff.call.duration');
    assert.equal(call?.dataPoints[0]?.value.sum, 2); // virtual seconds: the wait
    assert.deepEqual(
      records.getFinishedLogRecords().map((record) => record.eventName),
      ['backoff.wait'],
    );
  } finally {
    stop();
    await meterProvider.shutdown();
  }
});

for (const [name, fn] of checks) {
  await fn();
  console.log(`${runtime} smoke: ${name}: ok`);
}
