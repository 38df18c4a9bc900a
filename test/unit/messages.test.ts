// Every error message a user can meet, word for word (contract §12: the message names the option
// and shows the value). Other tests check the error kinds and when they are thrown; this one pins
// the wording, so that a message cannot lose the option's name, the expectation or the value.
import { describe, expect, it } from 'vitest';
import {
  constant,
  decay,
  decorrelated,
  expo,
  fibo,
  onException,
  onExceptionSync,
  onPredicate,
  onPredicateSync,
  ratio,
  retryAfter,
  retryContextSync,
  runtime,
  systemClock,
  throttle,
  tokenBucket,
} from '../../src/index.js';
import { preview, seededRandom, VirtualClock } from '../../src/testing.js';

/** `Name: message` of what `run` throws or rejects with; `no error` if it returns. */
async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : `a non-error: ${error}`;
  }
  return 'no error';
}

async function messagesOf(cases: Record<string, () => unknown>): Promise<Record<string, string>> {
  const messages: Record<string, string> = {};
  for (const [label, run] of Object.entries(cases)) messages[label] = await messageOf(run);
  return messages;
}

const make = (options: unknown) => () => onException(expo, Error, options as never);
const makeSync = (options: unknown) => () => onExceptionSync(expo, Error, options as never);
const failing = (): never => {
  throw new Error('down');
};
const quietSync = { logger: null, clock: new VirtualClock() };
const decorate = onException(expo, Error) as unknown as (...args: unknown[]) => unknown;

describe('error messages, word for word', () => {
  it('decorator arguments and retry options', async () => {
    expect(
      await messagesOf({
        'wait 5': () => (onException as (...args: unknown[]) => unknown)(5, Error),
        'options 5': () => onException(expo, Error, 5 as never),
        'exception "Error"': () => onException(expo, 'Error' as never),
        'exception []': () => onException(expo, [] as never),
        'exception [TypeError, 3]': () => onException(expo, [TypeError, 3] as never),
        'predicate 5': () => onPredicate(expo, 5 as never),
        'maxTries 0': make({ maxTries: 0 }),
        'maxTries "3"': make({ maxTries: '3' }),
        'maxTries -0': make({ maxTries: -0 }),
        'maxTries 5n': make({ maxTries: 5n }),
        'maxTries (n) => n': make({ maxTries: (n: number) => n }),
        'maxTime -1': make({ maxTime: -1 }),
        'maxTime (n) => n': make({ maxTime: (n: number) => n }),
        'jitter 5': make({ jitter: 5 }),
        'jitter a Map': make({ jitter: new Map() }),
        'jitter a null-prototype object': make({ jitter: Object.create(null) }),
        'jitter a symbol': make({ jitter: Symbol('s') }),
        'random "x"': make({ random: 'x' }),
        'giveup []': make({ giveup: [] }),
        'raiseOnGiveup 1': make({ raiseOnGiveup: 1 }),
        'onTry 5': make({ onTry: 5 }),
        'onSuccess 5': make({ onSuccess: 5 }),
        'onBackoff [fn, 5]': make({ onBackoff: [() => {}, 5] }),
        'onGiveup a named function in a list of one bad': make({
          onGiveup: [function notAHandler() {}, null],
        }),
        'logger "console"': make({ logger: 'console' }),
        'logger without info': make({ logger: { error() {} } }),
        'backoffLogLevel 5': make({ backoffLogLevel: 5 }),
        'giveupLogLevel "loud"': make({ logger: console, giveupLogLevel: 'loud' }),
        'signal {}': make({ signal: {} }),
        'signal on onExceptionSync': makeSync({ signal: new AbortController().signal }),
        'budget {}': make({ budget: {} }),
        'budget.onRequest 5': make({ budget: { tryRetry: () => true, onRequest: 5 } }),
        'clock 5': make({ clock: 5 }),
        'clock 5 (sync)': makeSync({ clock: 5 }),
        'clock without sleep': make({ clock: { now: () => 0, sleepSync() {} } }),
        'clock without sleepSync': makeSync({ clock: { now: () => 0, sleep() {} } }),
        'giveup on onPredicate': () =>
          onPredicate(expo, undefined, { giveup: () => true } as never),
        'raiseOnGiveup on onPredicateSync': () =>
          onPredicateSync(expo, undefined, { raiseOnGiveup: false } as never),
        'onTry {}': make({ onTry: {} }),
        'exception null': () => onException(expo, null as never),
        'jitter an object whose prototype has no constructor': make({
          jitter: Object.create(Object.create(null)),
        }),
        'signal without aborted': make({ signal: { addEventListener() {} } }),
        'every level of the silent default logger': () => {
          for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) {
            onException(expo, Error, { backoffLogLevel: level, giveupLogLevel: level });
          }
        },
        'onTry null (none)': make({ onTry: null }),
        'signal null (none)': make({ signal: null }),
        'signal of another realm (duck-typed)': make({
          signal: { aborted: false, addEventListener() {}, removeEventListener() {} },
        }),
        'budget null (none)': make({ budget: null }),
        'clock null': make({ clock: null }),
        'expo factor undefined (the default)': make({ factor: undefined }),
        'giveup undefined on onPredicate': () =>
          onPredicate(expo, undefined, { giveup: undefined } as never),
        'signal on retryContextSync': () =>
          retryContextSync(Error, expo, { signal: new AbortController().signal } as never),
        'decorating a field': () => decorate(undefined, { kind: 'field', name: 'x' }),
        'decorating a getter': () => decorate(() => 1, { kind: 'getter', name: 'x' }),
        'decorating a setter': () => decorate(() => 1, { kind: 'setter', name: 'x' }),
        'decorating an auto-accessor': () => decorate({}, { kind: 'accessor', name: 'x' }),
        'decorating a class': () => decorate(class {}, { kind: 'class', name: 'C' }),
        'legacy-decorating a property': () => decorate({}, 'x', { value: 5 }),
        'legacy-decorating a symbol-keyed property': () => decorate({}, Symbol('x'), { value: 5 }),
        'decorating 5': () =>
          (onException(expo, Error) as unknown as (target: unknown) => unknown)(5),
      }),
    ).toMatchInlineSnapshot(`
      {
        "backoffLogLevel 5": "TypeError: Expected \`backoffLogLevel\` to be a logger method name, got 5",
        "budget null (none)": "no error",
        "budget {}": "TypeError: Expected \`budget\` to be a retry budget (an object with a tryRetry method), got an object",
        "budget.onRequest 5": "TypeError: Expected \`budget.onRequest\` to be a function, got 5",
        "clock 5": "TypeError: Expected \`clock\` to be an object with methods now and sleep, got 5",
        "clock 5 (sync)": "TypeError: Expected \`clock\` to be an object with methods now and sleepSync, got 5",
        "clock null": "TypeError: Expected \`clock\` to be an object with methods now and sleep, got null",
        "clock without sleep": "TypeError: Expected \`clock.sleep\` to be a function, got undefined",
        "clock without sleepSync": "TypeError: Expected \`clock.sleepSync\` to be a function, got undefined",
        "decorating 5": "TypeError: Expected \`target\` to be a function to wrap, got 5",
        "decorating a class": "TypeError: onException decorates methods only; \`C\` is a class",
        "decorating a field": "TypeError: onException decorates methods only; \`x\` is a field",
        "decorating a getter": "TypeError: onException decorates methods only; \`x\` is a getter",
        "decorating a setter": "TypeError: onException decorates methods only; \`x\` is a setter",
        "decorating an auto-accessor": "TypeError: onException decorates methods only; \`x\` is an auto-accessor",
        "every level of the silent default logger": "no error",
        "exception "Error"": "TypeError: Expected \`exception\` to be an error class (a constructor such as TypeError), got "Error"",
        "exception [TypeError, 3]": "TypeError: Expected \`exception[1]\` to be an error class (a constructor such as TypeError), got 3",
        "exception []": "TypeError: Expected \`exception\` to be an error class or a non-empty array of them, got an array of 0",
        "exception null": "TypeError: Expected \`exception\` to be an error class (a constructor such as TypeError), got null",
        "expo factor undefined (the default)": "no error",
        "giveup []": "TypeError: Expected \`giveup\` to be a function, got an array of 0",
        "giveup on onPredicate": "TypeError: \`giveup\` is an option of onException and retryContext, not of onPredicate",
        "giveup undefined on onPredicate": "no error",
        "giveupLogLevel "loud"": "TypeError: Expected the logger to have a method \`loud\` (the \`giveupLogLevel\`), got undefined",
        "jitter 5": "TypeError: Expected \`jitter\` to be a function, got 5",
        "jitter a Map": "TypeError: Expected \`jitter\` to be a function, got a Map",
        "jitter a null-prototype object": "TypeError: Expected \`jitter\` to be a function, got an object",
        "jitter a symbol": "TypeError: Expected \`jitter\` to be a function, got Symbol(s)",
        "jitter an object whose prototype has no constructor": "TypeError: Expected \`jitter\` to be a function, got an object",
        "legacy-decorating a property": "TypeError: onException decorates methods only; \`x\` is not a method",
        "legacy-decorating a symbol-keyed property": "TypeError: onException decorates methods only; \`Symbol(x)\` is not a method",
        "logger "console"": "TypeError: Expected \`logger\` to be an object with log level methods (console, pino, winston …) or null, got "console"",
        "logger without info": "TypeError: Expected the logger to have a method \`info\` (the \`backoffLogLevel\`), got undefined",
        "maxTime (n) => n": "TypeError: Expected \`maxTime\` to be a number or a zero-argument function returning one, got function maxTime",
        "maxTime -1": "RangeError: Expected \`maxTime\` to be a number of seconds >= 0 or Infinity, got -1",
        "maxTries "3"": "TypeError: Expected \`maxTries\` to be a positive integer or Infinity, got "3"",
        "maxTries (n) => n": "TypeError: Expected \`maxTries\` to be a number or a zero-argument function returning one, got function maxTries",
        "maxTries -0": "RangeError: Expected \`maxTries\` to be a positive integer or Infinity, got -0",
        "maxTries 0": "RangeError: Expected \`maxTries\` to be a positive integer or Infinity, got 0",
        "maxTries 5n": "TypeError: Expected \`maxTries\` to be a positive integer or Infinity, got 5n",
        "onBackoff [fn, 5]": "TypeError: Expected \`onBackoff[1]\` to be a function, got 5",
        "onGiveup a named function in a list of one bad": "TypeError: Expected \`onGiveup[1]\` to be a function, got null",
        "onSuccess 5": "TypeError: Expected \`onSuccess\` to be a function or an iterable of functions, got 5",
        "onTry 5": "TypeError: Expected \`onTry\` to be a function or an iterable of functions, got 5",
        "onTry null (none)": "no error",
        "onTry {}": "TypeError: Expected \`onTry\` to be a function or an iterable of functions, got an object",
        "options 5": "TypeError: Expected \`options\` to be an object, got 5",
        "predicate 5": "TypeError: Expected \`predicate\` to be a function, got 5",
        "raiseOnGiveup 1": "TypeError: Expected \`raiseOnGiveup\` to be a boolean, got 1",
        "raiseOnGiveup on onPredicateSync": "TypeError: \`raiseOnGiveup\` is an option of onException and retryContext, not of onPredicateSync",
        "random "x"": "TypeError: Expected \`random\` to be a function, got "x"",
        "signal null (none)": "no error",
        "signal of another realm (duck-typed)": "no error",
        "signal on onExceptionSync": "TypeError: \`signal\` is an option of the async twins (onException, onPredicate, retryContext), not of onExceptionSync: a blocking wait cannot be aborted",
        "signal on retryContextSync": "TypeError: \`signal\` is an option of the async twins (onException, onPredicate, retryContext), not of retryContextSync: a blocking wait cannot be aborted",
        "signal without aborted": "TypeError: Expected \`signal\` to be an AbortSignal, got an object",
        "signal {}": "TypeError: Expected \`signal\` to be an AbortSignal, got an object",
        "wait 5": "TypeError: Expected \`wait\` to be a wait generator function such as expo, got 5",
      }
    `);
  });

  it('wait generator options', async () => {
    expect(
      await messagesOf({
        'maxtries (typo)': make({ maxtries: 3 }),
        'expo base 0': make({ base: 0 }),
        'expo factor -1': make({ factor: -1 }),
        'expo maxValue "8"': make({ maxValue: '8' }),
        'fibo maxValue -1': () => onException(fibo, Error, { maxValue: -1 }),
        'decay unknown': () => onException(decay, Error, { base: 2 } as never),
        'decay initialValue -1': () => onException(decay, Error, { initialValue: -1 }),
        'constant interval "1"': () => onException(constant, Error, { interval: '1' as never }),
        'constant interval null': () => onException(constant, Error, { interval: null as never }),
        'constant interval {}': () => onException(constant, Error, { interval: {} as never }),
        'retryAfter unknown': () => onException(retryAfter, Error, { factor: 1 } as never),
        'constant unknown': () => onException(constant, Error, { factor: 1 } as never),
        'runtime without value': () => onException(runtime, Error, {} as never),
        'runtime value 5': () => onException(runtime, Error, { value: 5 as never }),
        'decorrelated unknown': () => onException(decorrelated, Error, { factor: 1 } as never),
        'retryAfter maxServerWait -1': () => onException(retryAfter, Error, { maxServerWait: -1 }),
        'retryAfter maxServerWait 0': () => onException(retryAfter, Error, { maxServerWait: 0 }),
        'retryAfter fallback 5': () => onException(retryAfter, Error, { fallback: 5 as never }),
        'retryAfter fallbackOptions null': () =>
          onException(retryAfter, Error, { fallbackOptions: null as never }),
        'retryAfter fallbackOptions 5': () =>
          onException(retryAfter, Error, { fallbackOptions: 5 as never }),
        'retryAfter fallbackOptions of expo': () =>
          onException(retryAfter, Error, { fallbackOptions: { bse: 2 } as never }),
      }),
    ).toMatchInlineSnapshot(`
      {
        "constant interval "1"": "TypeError: Expected \`interval\` to be a finite number of seconds >= 0 or an iterable of them, got "1"",
        "constant interval null": "TypeError: Expected \`interval\` to be a finite number of seconds >= 0 or an iterable of them, got null",
        "constant interval {}": "TypeError: Expected \`interval\` to be a finite number of seconds >= 0 or an iterable of them, got an object",
        "constant unknown": "TypeError: Unknown option \`factor\`: not an option of the retry loop nor of constant (whose options are \`interval\`)",
        "decay initialValue -1": "RangeError: Expected \`initialValue\` to be a finite number of seconds >= 0, got -1",
        "decay unknown": "TypeError: Unknown option \`base\`: not an option of the retry loop nor of decay (whose options are \`initialValue\`, \`decayFactor\`, \`minValue\`)",
        "decorrelated unknown": "TypeError: Unknown option \`factor\`: not an option of the retry loop nor of decorrelated (whose options are \`base\`, \`maxValue\`)",
        "expo base 0": "RangeError: Expected \`base\` to be a finite number > 0, got 0",
        "expo factor -1": "RangeError: Expected \`factor\` to be a finite number of seconds >= 0, got -1",
        "expo maxValue "8"": "TypeError: Expected \`maxValue\` to be a finite number of seconds >= 0, got "8"",
        "fibo maxValue -1": "RangeError: Expected \`maxValue\` to be a finite number of seconds >= 0, got -1",
        "maxtries (typo)": "TypeError: Unknown option \`maxtries\`: not an option of the retry loop nor of expo (whose options are \`base\`, \`factor\`, \`maxValue\`)",
        "retryAfter fallback 5": "TypeError: Expected \`fallback\` to be a wait generator function, got 5",
        "retryAfter fallbackOptions 5": "TypeError: Expected \`fallbackOptions\` to be an object, got 5",
        "retryAfter fallbackOptions null": "TypeError: Expected \`fallbackOptions\` to be an object, got null",
        "retryAfter fallbackOptions of expo": "TypeError: Unknown option \`bse\`: not an option of the retry loop nor of expo (whose options are \`base\`, \`factor\`, \`maxValue\`)",
        "retryAfter maxServerWait -1": "RangeError: Expected \`maxServerWait\` to be a number of seconds >= 0 or Infinity, got -1",
        "retryAfter maxServerWait 0": "no error",
        "retryAfter unknown": "TypeError: Unknown option \`factor\`: not an option of the retry loop nor of retryAfter (whose options are \`maxServerWait\`, \`cutServerWait\`, \`fallback\`, \`fallbackOptions\`)",
        "runtime value 5": "TypeError: Expected \`value\` to be a function (outcome) => seconds, got 5",
        "runtime without value": "TypeError: The option \`value\` of runtime is required",
      }
    `);
  });

  it('when a call starts: lazy options, clocks, thenables where values are due', async () => {
    expect(
      await messagesOf({
        'lazy maxTries returning 0': () =>
          onException(expo, Error, { maxTries: () => 0 })(failing)(),
        'lazy maxTries returning a Promise': () =>
          onException(expo, Error, { maxTries: (async () => 1) as never })(failing)(),
        'a wait generator returning undefined': () =>
          onException((() => undefined) as never, Error, { logger: null, maxTries: 2 } as never)(
            failing,
          )(),
        'lazy factor returning a Promise': () =>
          onException(expo, Error, { factor: (async () => 1) as never })(failing)(),
        'clock.now returning "0"': () =>
          onException(expo, Error, {
            clock: { now: () => '0', sleep: async () => {}, sleepSync() {} } as never,
            maxTime: 5,
          })(failing)(),
        'clock.now returning a Promise': () =>
          onException(expo, Error, {
            clock: { now: async () => 0, sleep: async () => {}, sleepSync() {} } as never,
            maxTime: 5,
          })(failing)(),
        'sync target returning a Promise': () =>
          onExceptionSync(expo, Error, quietSync)(async () => 1)(),
        'sync target returning a Promise, with onTry (through the loop)': () =>
          onExceptionSync(expo, Error, { ...quietSync, onTry: () => {} })(async () => 1)(),
        'sync handler returning a Promise': () =>
          onExceptionSync(expo, Error, { ...quietSync, maxTries: 2, onBackoff: [async () => {}] })(
            failing,
          )(),
        'sync named handler returning a Promise': () =>
          onExceptionSync(expo, Error, {
            ...quietSync,
            maxTries: 2,
            onBackoff: async function report() {},
          })(failing)(),
        'a wait generator yielding -1': () =>
          onExceptionSync(
            function* () {
              yield -1;
            },
            Error,
            { ...quietSync, maxTries: 2 },
          )(failing)(),
        'a jitter giving NaN': () =>
          onExceptionSync(expo, Error, {
            ...quietSync,
            maxTries: 2,
            jitter: (_s: number) => Number.NaN,
          })(failing)(),
        'a wait generator returning 5': () =>
          onExceptionSync((() => 5) as never, Error, { ...quietSync, maxTries: 2 } as never)(
            failing,
          )(),
        'sync target returning a thenable function': () =>
          onExceptionSync(
            expo,
            Error,
            quietSync,
          )(() =>
            // biome-ignore lint/suspicious/noThenProperty: a thenable function is the point here.
            Object.assign(() => {}, { then: () => {} }),
          )(),
        'clock.sleep rejecting': () =>
          onException(expo, Error, {
            logger: null,
            maxTries: 2,
            clock: {
              now: () => 0,
              sleep: () => Promise.reject(new Error('the clock broke')),
              sleepSync() {},
            },
          })(failing)(),
        'attempt.run(5)': () => {
          for (const attempt of retryContextSync(Error, expo, quietSync)) attempt.run(5 as never);
        },
        'attempt.run twice': () => {
          for (const attempt of retryContextSync(Error, expo, quietSync)) {
            attempt.run(() => 1);
            attempt.run(() => 1);
          }
        },
        'attempt.run returning a Promise': () => {
          for (const attempt of retryContextSync(Error, expo, quietSync)) {
            attempt.run(async () => 1);
          }
        },
      }),
    ).toMatchInlineSnapshot(`
      {
        "a jitter giving NaN": "RangeError: Expected the jitter to give a finite number of seconds >= 0, got NaN",
        "a wait generator returning 5": "TypeError: Expected the wait generator to return an iterator, got 5",
        "a wait generator returning undefined": "TypeError: Expected the wait generator to return an iterator, got undefined",
        "a wait generator yielding -1": "RangeError: Expected the wait generator to give a finite number of seconds >= 0, got -1",
        "attempt.run returning a Promise": "TypeError: The block passed to attempt.run returned a Promise (or another thenable): use retryContext with for await",
        "attempt.run twice": "TypeError: attempt.run was already called for this attempt",
        "attempt.run(5)": "TypeError: Expected \`fn\` to be a function, got 5",
        "clock.now returning "0"": "TypeError: Expected clock.now() to return a finite number of seconds, got "0"",
        "clock.now returning a Promise": "TypeError: clock.now() returned a Promise: it must return seconds",
        "clock.sleep rejecting": "Error: the clock broke",
        "lazy factor returning a Promise": "TypeError: The lazy option \`factor\` returned a Promise: it must return its value synchronously",
        "lazy maxTries returning 0": "RangeError: Expected \`maxTries\` to be a positive integer or Infinity, got 0",
        "lazy maxTries returning a Promise": "TypeError: The lazy option \`maxTries\` returned a Promise: it must return its value synchronously",
        "sync handler returning a Promise": "TypeError: A callback returned a Promise (or another thenable): async targets and callbacks need the async twin (onException, onPredicate, retryContext)",
        "sync named handler returning a Promise": "TypeError: report returned a Promise (or another thenable): async targets and callbacks need the async twin (onException, onPredicate, retryContext)",
        "sync target returning a Promise": "TypeError: The target returned a Promise (or another thenable): async targets and callbacks need the async twin (onException, onPredicate, retryContext)",
        "sync target returning a Promise, with onTry (through the loop)": "TypeError: The target returned a Promise (or another thenable): async targets and callbacks need the async twin (onException, onPredicate, retryContext)",
        "sync target returning a thenable function": "TypeError: The target returned a Promise (or another thenable): async targets and callbacks need the async twin (onException, onPredicate, retryContext)",
      }
    `);
  });

  it('budgets, clocks and the test kit', async () => {
    expect(
      await messagesOf({
        'tokenBucket capacity -1': () => tokenBucket({ capacity: -1 }),
        'tokenBucket successIncrement "1"': () => tokenBucket({ successIncrement: '1' as never }),
        'tokenBucket retryCost NaN': () => tokenBucket({ retryCost: Number.NaN }),
        'tokenBucket timeoutCost Infinity': () =>
          tokenBucket({ timeoutCost: Number.POSITIVE_INFINITY }),
        'tokenBucket retryCost 0': () => tokenBucket({ retryCost: 0 }),
        'throttle maxTokens -1': () => throttle({ maxTokens: -1 }),
        'throttle tokenRatio -1': () => throttle({ tokenRatio: -1 }),
        'ratio ttl -1': () => ratio({ ttl: -1 }),
        'ratio minRetriesPerSecond -1': () => ratio({ minRetriesPerSecond: -1 }),
        'ratio percentCanRetry -1': () => ratio({ percentCanRetry: -1 }),
        'systemClock.sleep(-1)': () => systemClock.sleep(-1),
        'systemClock.sleep("1")': () => systemClock.sleep('1' as never),
        'systemClock.sleepSync(-1)': () => systemClock.sleepSync(-1),
        'VirtualClock sleep(-1)': () => new VirtualClock().sleep(-1),
        'VirtualClock sleepSync("1")': () => new VirtualClock().sleepSync('1' as never),
        'VirtualClock advance(-1)': () => new VirtualClock().advance(-1),
        'seededRandom(1.5)': () => seededRandom(1.5),
        'preview count -1': () => preview(expo, {}, -1),
      }),
    ).toMatchInlineSnapshot(`
      {
        "VirtualClock advance(-1)": "RangeError: Expected \`seconds\` to be a number >= 0, got -1",
        "VirtualClock sleep(-1)": "RangeError: Expected \`seconds\` to be a number >= 0, got -1",
        "VirtualClock sleepSync("1")": "TypeError: Expected \`seconds\` to be a number >= 0, got "1"",
        "preview count -1": "RangeError: Expected \`count\` to be an integer >= 0, got -1",
        "ratio minRetriesPerSecond -1": "RangeError: Expected \`minRetriesPerSecond\` to be a finite number >= 0, got -1",
        "ratio percentCanRetry -1": "RangeError: Expected \`percentCanRetry\` to be a number from 0 to 1000, got -1",
        "ratio ttl -1": "RangeError: Expected \`ttl\` to be a number of seconds from 1 to 60, got -1",
        "seededRandom(1.5)": "RangeError: Expected \`seed\` to be an integer, got 1.5",
        "systemClock.sleep("1")": "TypeError: Expected \`seconds\` to be a number >= 0, got "1"",
        "systemClock.sleep(-1)": "RangeError: Expected \`seconds\` to be a number >= 0, got -1",
        "systemClock.sleepSync(-1)": "RangeError: Expected \`seconds\` to be a number >= 0, got -1",
        "throttle maxTokens -1": "RangeError: Expected \`maxTokens\` to be a finite number >= 0, got -1",
        "throttle tokenRatio -1": "RangeError: Expected \`tokenRatio\` to be a finite number >= 0, got -1",
        "tokenBucket capacity -1": "RangeError: Expected \`capacity\` to be a finite number >= 0, got -1",
        "tokenBucket retryCost 0": "no error",
        "tokenBucket retryCost NaN": "RangeError: Expected \`retryCost\` to be a finite number >= 0, got NaN",
        "tokenBucket successIncrement "1"": "TypeError: Expected \`successIncrement\` to be a finite number >= 0, got "1"",
        "tokenBucket timeoutCost Infinity": "RangeError: Expected \`timeoutCost\` to be a finite number >= 0, got Infinity",
      }
    `);
  });
});
