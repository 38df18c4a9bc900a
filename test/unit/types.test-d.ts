// Type tests (vitest's expectTypeOf, run by `npm test` with --typecheck): wrapped function types,
// inline targets, option types.

import type { Instrumentation } from '@opentelemetry/instrumentation';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  Attempt,
  AttemptSync,
  CallDetails,
  WithException,
  WithWait,
} from '../../src/index.js';
import * as backoff from '../../src/index.js';
import { BackoffInstrumentation } from '../../src/otel.js';

describe('wrapped function types', () => {
  it('async twin keeps parameters and returns Promise<Awaited<R>>', () => {
    const wrapped = backoff.onException(
      backoff.expo,
      TypeError,
    )(async (a: string, b: number) => a.length + b);
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[string, number]>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<Promise<number>>();
    const fromSync = backoff.onPredicate(backoff.constant)((id: string) => ({ id }));
    expectTypeOf(fromSync).returns.toEqualTypeOf<Promise<{ id: string }>>();
  });

  it('sync twin keeps parameters and returns R', () => {
    const wrapped = backoff.onExceptionSync(backoff.constant, RangeError, { interval: 0 })(
      (text: string) => JSON.parse(text) as { ok: boolean },
    );
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[string]>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<{ ok: boolean }>();
    expectTypeOf(backoff.onPredicateSync(backoff.fibo)(() => 1)).returns.toEqualTypeOf<number>();
  });

  it('raiseOnGiveup: false adds undefined; true or absent does not', () => {
    const quiet = backoff.onException(backoff.expo, Error, { raiseOnGiveup: false })(async () => 1);
    expectTypeOf(quiet).returns.toEqualTypeOf<Promise<number | undefined>>();
    const loud = backoff.onException(backoff.expo, Error, { raiseOnGiveup: true })(async () => 1);
    expectTypeOf(loud).returns.toEqualTypeOf<Promise<number>>();
    const quietSync = backoff.onExceptionSync(backoff.expo, Error, { raiseOnGiveup: false })(
      () => 'x',
    );
    expectTypeOf(quietSync).returns.toEqualTypeOf<string | undefined>();
    const flag = Math.random() > 0.5;
    const maybe = backoff.onExceptionSync(backoff.expo, Error, { raiseOnGiveup: flag })(() => 'x');
    expectTypeOf(maybe).returns.toEqualTypeOf<string | undefined>();
  });

  it('forwards this', () => {
    const wrapped = backoff.onException(
      backoff.expo,
      Error,
    )(function (this: { base: number }, x: number) {
      return this.base + x;
    });
    expectTypeOf(wrapped).thisParameter.toEqualTypeOf<{ base: number }>();
  });
});

describe('inline targets: defaulted, optional, rest, overloaded and generic parameters', () => {
  it('a defaulted parameter keeps its type (async and sync twins)', () => {
    const getPage = backoff.onException(
      backoff.expo,
      TypeError,
    )(async (url: string, retries = 3) => {
      expectTypeOf(retries).toEqualTypeOf<number>();
      return retries + url.length;
    });
    expectTypeOf(getPage).parameters.toEqualTypeOf<[url: string, retries?: number]>();
    expectTypeOf(getPage).returns.toEqualTypeOf<Promise<number>>();
    // @ts-expect-error a wrong argument type is an error
    getPage('x', 'three');
    const double = backoff.onExceptionSync(
      backoff.constant,
      Error,
    )((n = 1) => {
      expectTypeOf(n).toEqualTypeOf<number>();
      return n * 2;
    });
    expectTypeOf(double).parameters.toEqualTypeOf<[n?: number]>();
    expectTypeOf(double).returns.toEqualTypeOf<number>();
    const poll = backoff.onPredicate(backoff.constant)(
      (id: string, tries = 0) => tries + id.length,
    );
    expectTypeOf(poll).parameters.toEqualTypeOf<[id: string, tries?: number]>();
  });

  it('optional and rest parameters are kept', () => {
    const optional = backoff.onException(backoff.expo, Error)((a: string, b?: number) => a + b);
    expectTypeOf(optional).parameters.toEqualTypeOf<[a: string, b?: number]>();
    const rest = backoff.onExceptionSync(
      backoff.expo,
      Error,
    )((first: string, ...more: number[]) => first.length + more.length);
    expectTypeOf(rest).parameters.toEqualTypeOf<[first: string, ...more: number[]]>();
    rest('a', 1, 2, 3);
    // @ts-expect-error rest elements keep their type
    rest('a', 'b');
  });

  it('an overloaded target: its last signature is what the wrapper takes (as Parameters<F> says)', () => {
    function parse(text: string): number;
    function parse(text: string, radix: number): number;
    function parse(text: string, radix?: number): number {
      return Number.parseInt(text, radix);
    }
    const wrapped = backoff.onExceptionSync(backoff.expo, Error)(parse);
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[text: string, radix: number]>();
    expectTypeOf(wrapped).returns.toEqualTypeOf<number>();
  });

  it('a generic target: its type parameter is fixed at its constraint (unknown)', () => {
    const identity = backoff.onException(backoff.expo, Error)(<T>(x: T) => x);
    expectTypeOf(identity).parameters.toEqualTypeOf<[x: unknown]>();
    expectTypeOf(identity).returns.toEqualTypeOf<Promise<unknown>>();
  });

  it('a method with a defaulted parameter, as a standard decorator', () => {
    class Client {
      base = 'http://localhost';
      @backoff.onException(backoff.expo, TypeError, { maxTries: 3 })
      async get(path: string, retries = 2): Promise<string> {
        expectTypeOf(retries).toEqualTypeOf<number>();
        return `${this.base}${path}${retries}`;
      }
    }
    expectTypeOf(new Client().get).parameters.toEqualTypeOf<[path: string, retries?: number]>();
  });
});

describe('option types', () => {
  it('giveup and handlers see the caught error class', () => {
    backoff.onException(backoff.expo, TypeError, {
      giveup: (error, details) => {
        expectTypeOf(error).toEqualTypeOf<TypeError>();
        expectTypeOf(details.exception).toEqualTypeOf<TypeError>();
        expectTypeOf(details.tries).toEqualTypeOf<number>();
        return false;
      },
      onBackoff: (details) => {
        expectTypeOf(details).toEqualTypeOf<CallDetails & WithWait & WithException<TypeError>>();
        expectTypeOf(details.wait).toEqualTypeOf<number>();
      },
    });
    backoff.onException(backoff.expo, [TypeError, RangeError], {
      onGiveup: (details) => {
        expectTypeOf(details.exception).toEqualTypeOf<TypeError | RangeError>();
      },
    });
  });

  it('predicate twins give value, not exception', () => {
    backoff.onPredicate(backoff.constant, (r: { status: number }) => r.status === 503, {
      onSuccess: (details) => {
        expectTypeOf(details.value).toEqualTypeOf<unknown>();
      },
      onBackoff: (details) => {
        expectTypeOf(details.wait).toEqualTypeOf<number>();
        // @ts-expect-error predicate twins have no exception
        details.exception;
      },
    });
  });

  it('a misspelt option is a compile-time error', () => {
    // @ts-expect-error maxtries is not an option
    backoff.onException(backoff.expo, Error, { maxtries: 3 });
    // @ts-expect-error interval belongs to constant, not expo
    backoff.onException(backoff.expo, Error, { interval: 3 });
    // @ts-expect-error giveup is not an option of onPredicate
    backoff.onPredicate(backoff.expo, undefined, { giveup: () => true });
    backoff.onException(backoff.constant, Error, { interval: 3 });
  });

  it('wait options and limits may be lazy; runtime requires value', () => {
    backoff.onException(backoff.expo, Error, {
      maxTries: () => 3,
      maxTime: () => 60,
      factor: () => 0.5,
    });
    backoff.onPredicate(backoff.runtime, undefined, {
      value: (r: Response) => Number(r.headers.get('Retry-After')),
    });
    // @ts-expect-error runtime needs its value option
    backoff.onPredicate(backoff.runtime);
    // @ts-expect-error maxTries is a number
    backoff.onException(backoff.expo, Error, { maxTries: '3' });
  });

  it('a custom wait generator decides its options', () => {
    const stepped = function* (options: { step: number }) {
      for (;;) yield options.step;
    };
    backoff.onException(stepped, Error, { step: 2 });
    // @ts-expect-error step is required by this generator
    backoff.onException(stepped, Error, {});
    const plain = function* () {
      yield 1;
    };
    // @ts-expect-error a generator without options takes no extra option
    backoff.onException(plain, Error, { step: 2 });
  });
});

describe('beyond Python backoff', () => {
  it('signal is an option of the async forms only; onGiveup knows the reason', () => {
    const { signal } = new AbortController();
    backoff.onException(backoff.expo, Error, {
      signal,
      onGiveup: (details) => {
        expectTypeOf(details.reason).toEqualTypeOf<backoff.GiveupReason>();
      },
    });
    backoff.onPredicate(backoff.expo, undefined, { signal });
    backoff.retryContext(Error, backoff.expo, { signal });
    // @ts-expect-error a blocking wait cannot be aborted
    backoff.onExceptionSync(backoff.expo, Error, { signal });
    // @ts-expect-error a blocking wait cannot be aborted
    backoff.retryContextSync(Error, backoff.expo, { signal });
  });

  it('timeout is an option of the async forms only; the attempt signal is typed', () => {
    backoff.onException(backoff.expo, Error, {
      timeout: 2,
      onTry: (details) => {
        expectTypeOf(details.signal).toEqualTypeOf<AbortSignal | undefined>();
      },
    });
    backoff.onPredicate(backoff.expo, undefined, { timeout: Number.POSITIVE_INFINITY });
    expectTypeOf(backoff.attemptSignal()).toEqualTypeOf<AbortSignal>();
    expectTypeOf(new backoff.AttemptTimeoutError(1, 2).timeout).toEqualTypeOf<number>();
    // @ts-expect-error a blocking call cannot be interrupted
    backoff.onExceptionSync(backoff.expo, Error, { timeout: 1 });
    // @ts-expect-error a blocking call cannot be interrupted
    backoff.retryContextSync(Error, backoff.expo, { timeout: 1 });
    for (const attempt of [] as backoff.Attempt[])
      expectTypeOf(attempt.signal).toEqualTypeOf<AbortSignal>();
  });

  it('retryAfter, decorrelated and the random option are typed', () => {
    backoff.onPredicate(backoff.retryAfter, (r: Response) => r.status === 429, {
      maxServerWait: 60,
      fallback: backoff.fibo,
      fallbackOptions: { maxValue: 10 },
      random: Math.random,
    });
    backoff.onException(backoff.decorrelated, Error, { base: 0.5, maxValue: 30 });
    // @ts-expect-error decorrelated has no factor
    backoff.onException(backoff.decorrelated, Error, { factor: 2 });
    backoff.onException(backoff.expo, Error, { jitter: backoff.equalJitter });
  });
});

describe('block form types', () => {
  it('attempt.run returns the value or undefined', async () => {
    for await (const attempt of backoff.retryContext(TypeError, backoff.expo, { maxTries: 3 })) {
      expectTypeOf(attempt).toEqualTypeOf<Attempt>();
      expectTypeOf(attempt.run(async () => 5)).toEqualTypeOf<Promise<number | undefined>>();
    }
    for (const attempt of backoff.retryContextSync(RangeError)) {
      expectTypeOf(attempt).toEqualTypeOf<AttemptSync>();
      expectTypeOf(attempt.run(() => 'x')).toEqualTypeOf<string | undefined>();
    }
    backoff.retryContext(TypeError, backoff.constant, {
      interval: 1,
      onBackoff: (details) => {
        expectTypeOf(details.exception).toEqualTypeOf<TypeError>();
        // @ts-expect-error the block form has no target
        details.target;
      },
    });
  });
});

describe('standard method decorators type-check', () => {
  it('on async and sync methods', () => {
    class Client {
      base = 'x';
      @backoff.onException(backoff.expo, TypeError, { maxTries: 3 })
      async get(id: string): Promise<string> {
        return this.base + id;
      }
      @backoff.onExceptionSync(backoff.constant, RangeError, { interval: 0 })
      parse(text: string): number {
        return Number(text);
      }
      @backoff.onPredicate(backoff.constant, undefined, { interval: 1 })
      static async poll(): Promise<boolean> {
        return true;
      }
    }
    expectTypeOf(new Client().get).returns.toEqualTypeOf<Promise<string>>();
  });
});

describe('callWith', () => {
  it('returns what its function returns, and takes only a CallContext', () => {
    const getUser = backoff.onException(backoff.expo, TypeError)(async (id: string) => ({ id }));
    expectTypeOf(
      backoff.callWith({ signal: AbortSignal.timeout(1) }, () => getUser('a')),
    ).toEqualTypeOf<Promise<{ id: string }>>();
    expectTypeOf(backoff.callWith).parameter(0).toEqualTypeOf<backoff.CallContext>();
    // @ts-expect-error: a signal must be an AbortSignal
    backoff.callWith({ signal: 'now' }, () => getUser('a'));
  });
});

describe('backoff-ts/otel', () => {
  it('BackoffInstrumentation is an OpenTelemetry Instrumentation, as NodeSDK takes it', () => {
    expectTypeOf(new BackoffInstrumentation({ enabled: false })).toExtend<Instrumentation>();
  });
});
