// Bad input fails fast, when the decorator is made, with an error naming the option and the value
// (contract §12).
import { describe, expect, it } from 'vitest';
import {
  constant,
  expo,
  fibo,
  onException,
  onExceptionSync,
  onPredicate,
  runtime,
} from '../../src/index.js';
import { OPTIONS, RETRY_OPTIONS } from '../../src/plan/options.js';
import { FakeClock, twins } from '../helpers.js';

type Case = [label: string, make: () => unknown, kind: ErrorConstructor, message: RegExp];

describe.each(twins)('bad input ($name twin)', (twin) => {
  const cases: Case[] = [
    ['non-function wait', () => twin.onException(5, Error), TypeError, /`wait`.*got 5/],
    ['missing wait', () => twin.onPredicate(undefined), TypeError, /`wait`.*got undefined/],
    [
      'exception not a class',
      () => twin.onException(expo, 'Error'),
      TypeError,
      /`exception`.*got "Error"/,
    ],
    [
      'exception an arrow function',
      () => twin.onException(expo, () => true),
      TypeError,
      /`exception`.*anonymous function/,
    ],
    [
      'empty exception array',
      () => twin.onException(expo, []),
      TypeError,
      /`exception`.*array of 0/,
    ],
    [
      'a bad class inside the array',
      () => twin.onException(expo, [TypeError, 3]),
      TypeError,
      /`exception\[1\]`.*got 3/,
    ],
    [
      'maxTries 0',
      () => twin.onException(expo, Error, { maxTries: 0 }),
      RangeError,
      /`maxTries`.*got 0/,
    ],
    [
      'maxTries -1',
      () => twin.onException(expo, Error, { maxTries: -1 }),
      RangeError,
      /`maxTries`.*got -1/,
    ],
    [
      'maxTries 2.5',
      () => twin.onException(expo, Error, { maxTries: 2.5 }),
      RangeError,
      /`maxTries`.*got 2\.5/,
    ],
    [
      'maxTries NaN',
      () => twin.onException(expo, Error, { maxTries: Number.NaN }),
      RangeError,
      /`maxTries`.*got NaN/,
    ],
    [
      'maxTries "3"',
      () => twin.onException(expo, Error, { maxTries: '3' }),
      TypeError,
      /`maxTries`.*got "3"/,
    ],
    [
      'maxTries a function with parameters',
      () => twin.onException(expo, Error, { maxTries: (n: number) => n }),
      TypeError,
      /`maxTries`.*zero-argument function/,
    ],
    [
      'maxTime -1',
      () => twin.onException(expo, Error, { maxTime: -1 }),
      RangeError,
      /`maxTime`.*got -1/,
    ],
    [
      'maxTime NaN',
      () => twin.onException(expo, Error, { maxTime: Number.NaN }),
      RangeError,
      /`maxTime`.*got NaN/,
    ],
    [
      'maxTime "60"',
      () => twin.onException(expo, Error, { maxTime: '60' }),
      TypeError,
      /`maxTime`.*got "60"/,
    ],
    [
      'jitter not a function',
      () => twin.onException(expo, Error, { jitter: 0.5 }),
      TypeError,
      /`jitter`.*got 0\.5/,
    ],
    [
      'giveup not a function',
      () => twin.onException(expo, Error, { giveup: true }),
      TypeError,
      /`giveup`.*got true/,
    ],
    [
      'raiseOnGiveup not a boolean',
      () => twin.onException(expo, Error, { raiseOnGiveup: 'no' }),
      TypeError,
      /`raiseOnGiveup`.*got "no"/,
    ],
    [
      'handler not a function',
      () => twin.onException(expo, Error, { onBackoff: 'log' }),
      TypeError,
      /`onBackoff`.*got "log"/,
    ],
    [
      'a bad handler in a list',
      () => twin.onException(expo, Error, { onGiveup: [() => {}, null] }),
      TypeError,
      /`onGiveup\[1\]`.*got null/,
    ],
    [
      'onTry not a function',
      () => twin.onPredicate(expo, undefined, { onTry: 1 }),
      TypeError,
      /`onTry`.*got 1/,
    ],
    [
      'logger without the level method',
      () => twin.onException(expo, Error, { logger: { error: () => {} } }),
      TypeError,
      /method `info`.*`backoffLogLevel`/,
    ],
    [
      'an unknown log level',
      () => twin.onException(expo, Error, { logger: console, giveupLogLevel: 'loud' }),
      TypeError,
      /method `loud`.*`giveupLogLevel`/,
    ],
    [
      'an unknown level for the default logger',
      () => twin.onException(expo, Error, { backoffLogLevel: 'verbose' }),
      TypeError,
      /method `verbose`/,
    ],
    [
      'logger a string',
      () => twin.onException(expo, Error, { logger: 'backoff' }),
      TypeError,
      /`logger`.*got "backoff"/,
    ],
    [
      'unknown option (typo)',
      () => twin.onException(expo, Error, { maxtries: 3 }),
      TypeError,
      /Unknown option `maxtries`.*expo/,
    ],
    [
      'unknown option of constant',
      () => twin.onPredicate(constant, undefined, { intervall: 3 }),
      TypeError,
      /Unknown option `intervall`.*`interval`/,
    ],
    [
      'bad expo base',
      () => twin.onException(expo, Error, { base: 0 }),
      RangeError,
      /`base`.*got 0/,
    ],
    [
      'bad expo factor',
      () => twin.onException(expo, Error, { factor: -1 }),
      RangeError,
      /`factor`.*got -1/,
    ],
    [
      'bad fibo maxValue',
      () => twin.onException(fibo, Error, { maxValue: 'x' }),
      TypeError,
      /`maxValue`.*got "x"/,
    ],
    [
      'bad interval',
      () => twin.onException(constant, Error, { interval: -2 }),
      RangeError,
      /`interval`.*got -2/,
    ],
    [
      'interval a string',
      () => twin.onException(constant, Error, { interval: '5' }),
      TypeError,
      /`interval`.*got "5"/,
    ],
    [
      'runtime without value',
      () => twin.onException(runtime, Error),
      TypeError,
      /`value` of runtime is required/,
    ],
    [
      'runtime value not a function',
      () => twin.onException(runtime, Error, { value: 3 }),
      TypeError,
      /`value`.*got 3/,
    ],
    [
      'giveup on onPredicate',
      () => twin.onPredicate(expo, undefined, { giveup: () => true }),
      TypeError,
      /`giveup` is an option of onException/,
    ],
    [
      'predicate not a function',
      () => twin.onPredicate(expo, 'truthy'),
      TypeError,
      /`predicate`.*got "truthy"/,
    ],
    [
      'options not an object',
      () => twin.onException(expo, Error, 5),
      TypeError,
      /`options`.*got 5/,
    ],
    [
      'clock without now',
      () => twin.onException(expo, Error, { clock: {} }),
      TypeError,
      /`clock\.now`/,
    ],
    [
      'clock not an object',
      () => twin.onException(expo, Error, { clock: 'system' }),
      TypeError,
      /`clock`.*got "system"/,
    ],
  ];

  it.each(cases)('%s', (_label, make, kind, message) => {
    expect(make).toThrow(kind);
    expect(make).toThrow(message);
  });

  it('the twin must have its sleep method on a custom clock', () => {
    const clock = { now: () => 0, [twin.name === 'async' ? 'sleepSync' : 'sleep']: () => {} };
    expect(() => twin.onException(expo, Error, { clock })).toThrow(
      twin.name === 'async' ? /`clock\.sleep`/ : /`clock\.sleepSync`/,
    );
  });

  it('accepts every valid form', () => {
    const clock = new FakeClock();
    for (const options of [
      undefined,
      null,
      {},
      { maxTries: 1, maxTime: 0 },
      { maxTries: Number.POSITIVE_INFINITY, maxTime: Number.POSITIVE_INFINITY },
      { maxTries: null, maxTime: null, jitter: null, logger: null, giveup: null },
      { maxTries: () => 3, maxTime: () => 5, factor: () => 0.5 },
      { logger: console, backoffLogLevel: 'warn', giveupLogLevel: 'info' },
      { onBackoff: [], onGiveup: new Set([() => {}]), clock },
      { base: 3, factor: 0, maxValue: 60 },
      { maxValue: null },
    ]) {
      expect(() => twin.onException(expo, [TypeError, RangeError], options)).not.toThrow();
    }
    expect(() => twin.onPredicate(constant, null, { interval: [1, 2] })).not.toThrow();
    expect(() =>
      twin.onPredicate(runtime, undefined, { value: (r: unknown) => Number(r) }),
    ).not.toThrow();
  });

  it('a custom wait generator receives every option that is not a retry option', () => {
    let received: unknown;
    const custom = (options: unknown) => {
      received = options;
      return [1][Symbol.iterator]();
    };
    const wrapped = twin.onException(custom, Error, {
      logger: null,
      clock: new FakeClock(),
      anything: 'goes',
      maxTries: 2,
    })(() => {
      throw new Error();
    });
    return twin.call(wrapped).then(
      () => expect.unreachable(),
      () => expect(received).toEqual({ anything: 'goes' }),
    );
  });
});

describe('the option table', () => {
  it('checks a row after every row it reads (its declared dependencies)', () => {
    const order: string[] = [...RETRY_OPTIONS];
    const reading = Object.entries(OPTIONS).filter(([, row]) => 'reads' in row);
    expect(reading.map(([name]) => name)).toEqual(['backoffLogLevel', 'giveupLogLevel', 'clock']);
    for (const [name, row] of reading) {
      for (const dependency of (row as { reads: readonly string[] }).reads) {
        expect(order.indexOf(dependency), `${name} reads ${dependency}`).toBeGreaterThanOrEqual(0);
        expect(order.indexOf(dependency), `${name} reads ${dependency}`).toBeLessThan(
          order.indexOf(name),
        );
      }
    }
  });

  it('names every retry option once; each refuses a bad value with an error naming it', () => {
    expect(new Set(RETRY_OPTIONS).size).toBe(22);
    expect(RETRY_OPTIONS).toContain('maxTries');
    for (const name of RETRY_OPTIONS) {
      expect(() => onException(expo, Error, { [name]: Symbol('bad') } as never)).toThrow(
        new RegExp(`\`${name}\``),
      );
    }
  });

  it('an option a decorator does not take is as if left out when null or undefined', () => {
    for (const value of [null, undefined]) {
      expect(() =>
        onPredicate(expo, undefined, { giveup: value, raiseOnGiveup: value } as never),
      ).not.toThrow();
      expect(() => onExceptionSync(expo, Error, { signal: value } as never)).not.toThrow();
    }
  });
});

describe('the timeout option’s message', () => {
  it('names the option, what it takes and the value', () => {
    expect(() => onException(expo, Error, { timeout: 0 })).toThrow(
      'Expected `timeout` to be a number of seconds > 0 or Infinity, got 0',
    );
  });
});
