// Property tests (fast-check): 10,000 generated scenarios per property, with a fixed seed that
// fast-check prints on failure (set FC_SEED to replay another).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  constant,
  decay,
  equalJitter,
  expo,
  fibo,
  fullJitter,
  onException,
  onExceptionSync,
  randomJitter,
} from '../../src/index.js';
import { RETRY_OPTIONS } from '../../src/plan/options.js';
import { preview, VirtualClock } from '../../src/testing.js';

const RUNS = 10_000;
const seed = Number(process.env.FC_SEED ?? 20261128);
const settings = { numRuns: RUNS, seed, verbose: 1 } as const;

const jitters = { none: null, full: fullJitter, equal: equalJitter, random: randomJitter } as const;
type JitterName = keyof typeof jitters;

/** Is `wait` what jitter `name` can make of generator value `v`? */
function withinJitter(name: JitterName, v: number, wait: number): boolean {
  switch (name) {
    case 'none':
      return wait === v;
    case 'full':
      return wait >= 0 && wait <= v;
    case 'equal':
      return wait >= v / 2 && wait <= v;
    case 'random':
      return wait >= v && wait < v + 1;
  }
}

const jitterName = fc.constantFrom<JitterName>('none', 'full', 'equal', 'random');

describe('properties', () => {
  it('waits stay within the generator value and the jitter bounds', () => {
    fc.assert(
      fc.property(
        fc.record({
          base: fc.double({ min: 1.01, max: 5, noNaN: true }),
          factor: fc.double({ min: 0, max: 100, noNaN: true }),
          maxValue: fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }),
        }),
        jitterName,
        fc.integer(),
        (options, name, jitterSeed) => {
          const values = expo(options);
          const waits = preview(expo, { ...options, jitter: jitters[name] }, 12, {
            seed: jitterSeed,
          });
          expect(waits).toHaveLength(12);
          for (const wait of waits) {
            const v = values.next().value;
            if (options.maxValue !== undefined) expect(v).toBeLessThanOrEqual(options.maxValue);
            expect(withinJitter(name, v, wait)).toBe(true);
          }
        },
      ),
      settings,
    );
  });

  it('no NaN, negative or infinite wait, whatever the options', () => {
    const huge = fc.oneof(
      fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
      fc.constantFrom(0, 1e-300, 1e300, Number.MAX_VALUE),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            wait: fc.constant(expo),
            base: fc.double({ min: 1e-9, max: 1e300, noNaN: true }),
            factor: huge,
          }),
          fc.record({ wait: fc.constant(fibo), maxValue: fc.option(huge, { nil: undefined }) }),
          fc.record({
            wait: fc.constant(decay),
            initialValue: huge,
            decayFactor: fc.double({ min: 0, max: 1e6, noNaN: true }),
          }),
          fc.record({ wait: fc.constant(constant), interval: huge }),
        ),
        jitterName,
        ({ wait, ...options }, name) => {
          const waits = preview(wait as typeof expo, { ...options, jitter: jitters[name] }, 30, {
            seed: 1,
          });
          for (const seconds of waits) {
            expect(Number.isFinite(seconds)).toBe(true);
            expect(seconds).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { ...settings, numRuns: RUNS },
    );
  });

  const scenario = fc.record({
    maxTries: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    maxTime: fc.option(fc.double({ min: 0, max: 60, noNaN: true }), { nil: undefined }),
    interval: fc.double({ min: 0, max: 10, noNaN: true }),
    jitter: jitterName,
    // Each attempt: how long it takes, and whether it fails.
    attempts: fc.array(
      fc.record({ seconds: fc.double({ min: 0, max: 5, noNaN: true }), fails: fc.boolean() }),
      {
        minLength: 1,
        maxLength: 15,
      },
    ),
  });
  type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

  /** Runs a scenario on one twin; returns the events and the calls made. */
  async function play(twin: 'async' | 'sync', s: Scenario) {
    const clock = new VirtualClock();
    const events: string[] = [];
    let calls = 0;
    let longest = 0;
    const target = () => {
      const step = s.attempts[Math.min(calls, s.attempts.length - 1)] as {
        seconds: number;
        fails: boolean;
      };
      calls += 1;
      longest = Math.max(longest, step.seconds);
      clock.advance(step.seconds);
      if (step.fails) throw new TypeError(`fail ${calls}`);
      return calls;
    };
    const options = {
      clock,
      logger: null,
      maxTries: s.maxTries ?? 20,
      maxTime: s.maxTime,
      interval: s.interval,
      jitter: jitters[s.jitter],
      random: () => 0.5,
      onTry: (d: { tries: number; elapsed: number }) => events.push(`try ${d.tries} ${d.elapsed}`),
      onBackoff: (d: { tries: number; wait: number }) =>
        events.push(`backoff ${d.tries} ${d.wait}`),
      onSuccess: (d: { tries: number }) => events.push(`success ${d.tries}`),
      onGiveup: (d: { tries: number; reason: string }) =>
        events.push(`giveup ${d.tries} ${d.reason}`),
    };
    const decorate = (twin === 'async' ? onException : onExceptionSync) as unknown as (
      ...args: unknown[]
    ) => (target: () => unknown) => () => unknown;
    let outcome: unknown;
    try {
      outcome = await decorate(constant, TypeError, options)(target)();
    } catch (error) {
      outcome = (error as Error).message;
    }
    return { events, calls, end: clock.now(), longest, outcome };
  }

  it('tries never exceed maxTries; virtual time never passes maxTime by more than one attempt', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { calls, end, longest } = await play('async', s);
        expect(calls).toBeLessThanOrEqual(s.maxTries ?? 20);
        if (s.maxTime !== undefined) expect(end).toBeLessThanOrEqual(s.maxTime + longest + 1e-9);
      }),
      settings,
    );
  });

  it('handler events come in order: try, then backoff → try … then success or giveup', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { events } = await play('async', s);
        const kinds = events.map((event) => event.split(' ')[0]).join(' ');
        expect(kinds).toMatch(/^try( backoff try)* (success|giveup)$/);
        const tries = events.filter((e) => e.startsWith('try')).map((e) => Number(e.split(' ')[1]));
        expect(tries).toEqual(tries.map((_, i) => i + 1));
      }),
      settings,
    );
  });

  it('both twins give the same events for the same scenario', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const asyncRun = await play('async', s);
        const syncRun = await play('sync', s);
        expect(syncRun.events).toEqual(asyncRun.events);
        expect(syncRun.outcome).toEqual(asyncRun.outcome);
        expect(syncRun.end).toBe(asyncRun.end);
      }),
      settings,
    );
  });
});

describe('fuzzed bad input', () => {
  // Every option of the retry loop, from the option table itself, and the wait generator's.
  const optionNames = [...RETRY_OPTIONS, 'base', 'factor', 'maxValue'];

  it('any value of any option: a TypeError or RangeError naming it, or a working decorator', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...optionNames),
        fc.anything({ withBigInt: true, withNullPrototype: true }),
        async (name, value) => {
          let wrapped: (() => Promise<unknown>) | undefined;
          let attempts = 0;
          try {
            // The target succeeds on its 4th attempt, so that even unlimited retries end.
            wrapped = onException(expo, TypeError, {
              logger: null,
              clock: new VirtualClock(),
              maxTries: 2,
              [name]: value,
            } as never)(() => {
              attempts += 1;
              if (attempts < 4) throw new TypeError('target');
              return 'ok';
            });
          } catch (error) {
            expect(error instanceof TypeError || error instanceof RangeError).toBe(true);
            expect((error as Error).message).toContain(name);
            return;
          }
          // Accepted: the call ends, with the target's error or a clear TypeError/RangeError.
          const outcome = await wrapped().then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(
            outcome === undefined || outcome instanceof TypeError || outcome instanceof RangeError,
          ).toBe(true);
        },
      ),
      settings,
    );
  });

  it('any thrown value propagates as the same value when not matched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (thrown) => {
        const wrapped = onException(expo, RangeError, { logger: null })(() => {
          throw thrown;
        });
        const caught = await wrapped().then(
          () => 'resolved',
          (error: unknown) => error,
        );
        if (thrown instanceof RangeError) return;
        expect(caught).toBe(thrown);
      }),
      settings,
    );
  });
});
