// A user's code against the packed package: type-checked by .ci/consumer-types with skipLibCheck
// false, in ESM, CJS and bundler projects, on the oldest supported TypeScript, 5.9 and 7.
import * as backoff from 'backoff-ts';
import { tokenBucket } from 'backoff-ts';
import type { RedisClient } from 'backoff-ts/redis';
import { preview, seededRandom, VirtualClock } from 'backoff-ts/testing';

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export const getJson = backoff.onException(backoff.expo, [TypeError, HttpError], {
  maxTries: 5,
  maxTime: 60,
  factor: 0.5,
  giveup: (error) => error instanceof HttpError && error.status < 500,
  onGiveup: ({ reason, tries }) => console.log(reason, tries),
  budget: tokenBucket(),
})(async (url: string): Promise<unknown> => (await fetch(url)).json());

export const text: Promise<unknown> = getJson('http://localhost/');

export const poll = backoff.onPredicate(backoff.constant, (status: string) => status !== 'done', {
  interval: 2,
  jitter: null,
})(async (id: number) => (id > 0 ? 'done' : 'running'));

export const parse = backoff.onExceptionSync(backoff.fibo, SyntaxError, { maxTries: 3 })(
  (input: string): unknown => JSON.parse(input),
);

export const quiet = backoff.onException(backoff.expo, Error, { raiseOnGiveup: false })(
  async () => 1,
);
export const maybe: Promise<number | undefined> = quiet();

export async function block(): Promise<void> {
  for await (const attempt of backoff.retryContext(TypeError, backoff.decorrelated, { base: 1 })) {
    await attempt.run(() => fetch('http://localhost/'));
  }
}

export const waits: number[] = preview(backoff.expo, { maxTries: 4 }, 10, { seed: 1 });
export const clock = new VirtualClock();
export const random: () => number = seededRandom(42);
export const server = backoff.retryAfter({ maxServerWait: 30 });
export type Redis = RedisClient;

export const timed = backoff.onException(backoff.expo, TypeError, {
  timeout: 2,
  onTry: ({ signal }) => signal?.aborted,
})(async (url: string) => (await fetch(url, { signal: backoff.attemptSignal() })).text());

export async function timedBlock(): Promise<void> {
  for await (const attempt of backoff.retryContext(TypeError, backoff.expo, { timeout: 1 })) {
    await attempt.run(() => fetch('http://localhost/', { signal: attempt.signal }));
  }
}

export const isTimeout = (error: unknown): number | undefined =>
  error instanceof backoff.AttemptTimeoutError ? error.timeout + error.tries : undefined;
export const manual = new VirtualClock({ start: 5, autoAdvance: false });
export const advanced: Promise<void> = manual.advance(1);
