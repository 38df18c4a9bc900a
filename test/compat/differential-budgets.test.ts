// The budget presets driven side by side with the real systems they copy, event by event, over
// seeded random sequences: the AWS SDK's retry strategy (@smithy/core 3.38, the original quota,
// and 3.41, the current one) and grpc-js's RetryThrottler (internal: loaded by its file path, the
// version pinned in package.json). Tokens and decisions must agree after every event.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { type BudgetCall, throttle, tokenBucket } from '../../src/index.js';
import { seededRandom } from '../../src/testing.js';

const require = createRequire(import.meta.url);

interface RetryToken {
  getRetryCount(): number;
}
interface AwsStrategy {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(token: RetryToken, info: { errorType: string }): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
  getCapacity(): number;
}
type AwsStrategyClass = new (options: {
  maxAttempts: number;
  backoff: { computeNextBackoffDelay(): number; setDelayBase(): void };
}) => AwsStrategy;

const smithy = {
  original: require('smithy-core-3-38/retry') as { StandardRetryStrategy: AwsStrategyClass },
  current: require('@smithy/core/retry') as { StandardRetryStrategy: AwsStrategyClass },
};
const grpcDir = require.resolve('@grpc/grpc-js').replace(/build[/\\]src[/\\]index\.js$/, '');
const { RetryThrottler } = require(`${grpcDir}build/src/retrying-call.js`) as {
  RetryThrottler: new (
    maxTokens: number,
    tokenRatio: number,
  ) => {
    tokens: number;
    addCallSucceeded(): void;
    addCallFailed(): void;
    canRetryCall(): boolean;
  };
};

/** No waits between the SDK's retries: the test compares tokens, not delays. */
const noBackoff = { computeNextBackoffDelay: () => 0, setDelayBase: () => {} };
const ERROR_TYPES = ['TRANSIENT', 'THROTTLING'] as const;

describe.each([
  ['original', {}],
  ['current', { retryCost: 14, timeoutCost: 14, throttlingCost: 5 }],
] as const)('tokenBucket() and the AWS SDK’s %s retry quota', (quota, options) => {
  it('agree on every decision and every token over 500 seeded calls, 10 seeds', async () => {
    let events = 0;
    let refusedForTokens = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const random = seededRandom(seed);
      const maxAttempts = 2 + Math.floor(random() * 4);
      const aws = new smithy[quota].StandardRetryStrategy({ maxAttempts, backoff: noBackoff });
      const ours = tokenBucket({
        ...options,
        isTimeout: (outcome) => (outcome as { errorType: string }).errorType === 'TRANSIENT',
        isThrottling: (outcome) => (outcome as { errorType: string }).errorType === 'THROTTLING',
      });
      for (let request = 0; request < 500; request++) {
        // Each call fails 0 to 6 times (each failure transient or throttling), then succeeds.
        const failures = Math.floor(random() * 7);
        let token = await aws.acquireInitialRetryToken('scope');
        const call: BudgetCall = { tries: 0, outcome: undefined, memo: undefined };
        let gaveUp = false;
        for (let failure = 0; failure < failures && !gaveUp; failure++) {
          const errorType = ERROR_TYPES[Math.floor(random() * 2)] as string;
          call.tries += 1;
          call.outcome = { errorType };
          // The loop asks the budget only below maxTries, as the SDK checks attempts first.
          const oursRetries = call.tries < maxAttempts && ours.tryRetry(call);
          let awsRetries = true;
          try {
            token = await aws.refreshRetryTokenForRetry(token, { errorType });
          } catch {
            awsRetries = false;
          }
          expect({ seed, request, failure, retries: oursRetries }).toEqual({
            seed,
            request,
            failure,
            retries: awsRetries,
          });
          expect(ours.state().tokens).toBe(aws.getCapacity());
          gaveUp = !awsRetries;
          if (gaveUp && call.tries < maxAttempts) refusedForTokens += 1;
          events += 1;
        }
        if (!gaveUp) {
          ours.onSuccess?.(call);
          aws.recordSuccess(token);
          expect(ours.state().tokens).toBe(aws.getCapacity());
          events += 1;
        }
      }
    }
    // Both limits were reached: maxTries, and an empty bucket.
    expect(events).toBeGreaterThan(5000);
    expect(refusedForTokens).toBeGreaterThan(100);
  });
});

describe('throttle() and grpc-js’s RetryThrottler', () => {
  it('agree bit for bit on tokens and on every decision over 10 seeded sequences of 2,000 events', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const random = seededRandom(seed);
      const maxTokens = 1 + Math.floor(random() * 100);
      const tokenRatio = Math.round(random() * 1000) / 1000;
      const grpc = new RetryThrottler(maxTokens, tokenRatio);
      const ours = throttle({ maxTokens, tokenRatio });
      const call: BudgetCall = { tries: 1, outcome: undefined, memo: undefined };
      // Failures more often than successes, so that retries turn off and on again.
      for (let event = 0; event < 2000; event++) {
        if (random() < 0.6) {
          ours.onFailure?.(call);
          grpc.addCallFailed();
        } else {
          ours.onSuccess?.(call);
          grpc.addCallSucceeded();
        }
        expect(ours.state().tokens).toBe(grpc.tokens);
        expect(ours.tryRetry(call)).toBe(grpc.canRetryCall());
      }
    }
  });
});
