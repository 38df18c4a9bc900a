// The default log lines: Python backoff's wording, levels, NODE_DEBUG, logger: null, and how
// values and errors render.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { constant, expo } from '../../src/index.js';
import { renderOutcome as render } from '../../src/listeners/logging.js';
import { FakeClock, flaky, returning, twins } from '../helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function capture() {
  const lines: [string, string][] = [];
  const logger = {
    trace: (m: string) => lines.push(['trace', m]),
    debug: (m: string) => lines.push(['debug', m]),
    info: (m: string) => lines.push(['info', m]),
    warn: (m: string) => lines.push(['warn', m]),
    error: (m: string) => lines.push(['error', m]),
  };
  return { lines, logger };
}

describe.each(twins)('logging ($name twin)', (twin) => {
  const base = { clock: new FakeClock(), jitter: null } as const;

  it('the log lines show no elapsed time, so they alone never read the clock', async () => {
    const { lines, logger } = capture();
    const clock = new FakeClock();
    const wrapped = twin.onException(constant, TypeError, {
      clock,
      jitter: null,
      interval: 1,
      logger,
      maxTries: 2,
    })(() => {
      throw new TypeError('down');
    });
    await expect(twin.call(wrapped)).rejects.toThrow('down');
    expect(lines).toHaveLength(2);
    expect(clock.reads).toBe(0);
  });

  it('writes "Backing off" at info and "Giving up" at error, with the name and never the args', async () => {
    const { lines, logger } = capture();
    const wrapped = twin.onException(expo, TypeError, { ...base, logger, maxTries: 3 })(
      function fetchData(_secret: string) {
        throw new TypeError('fetch failed');
      },
    );
    await expect(twin.call(wrapped, 'password')).rejects.toThrow('fetch failed');
    expect(lines).toEqual([
      ['info', 'Backing off fetchData(...) for 1.0s (TypeError: fetch failed)'],
      ['info', 'Backing off fetchData(...) for 2.0s (TypeError: fetch failed)'],
      ['error', 'Giving up fetchData(...) after 3 tries (TypeError: fetch failed)'],
    ]);
  });

  it('uses backoffLogLevel and giveupLogLevel as method names', async () => {
    const { lines, logger } = capture();
    const wrapped = twin.onException(constant, TypeError, {
      ...base,
      logger,
      interval: 1.25,
      maxTries: 2,
      backoffLogLevel: 'debug',
      giveupLogLevel: 'trace',
    })(function job() {
      throw new TypeError();
    });
    await expect(twin.call(wrapped)).rejects.toBeInstanceOf(TypeError);
    // An Error without a message renders as its name; the wait uses toFixed(1).
    expect(lines).toEqual([
      ['debug', 'Backing off job(...) for 1.3s (TypeError)'],
      ['trace', 'Giving up job(...) after 2 tries (TypeError)'],
    ]);
  });

  it('renders a predicate value; an anonymous target shows as <anonymous>', async () => {
    const { lines, logger } = capture();
    const target = returning(['a', 1], { state: 'busy' });
    Object.defineProperty(target, 'name', { value: '' });
    const wrapped = twin.onPredicate(constant, (v: unknown) => v !== 'done', {
      ...base,
      logger,
      interval: 0.2,
      maxTries: 2,
    })(target);
    await twin.call(wrapped);
    expect(lines).toEqual([
      ['info', 'Backing off <anonymous>(...) for 0.2s (["a",1])'],
      ['error', 'Giving up <anonymous>(...) after 2 tries ({"state":"busy"})'],
    ]);
  });

  it('runs the default log handler before user handlers; logger: null removes it only', async () => {
    const order: string[] = [];
    const logger = { info: () => order.push('log'), error: () => order.push('log giveup') };
    const onBackoff = () => order.push('user');
    await twin.call(
      twin.onException(constant, TypeError, { ...base, logger, onBackoff, maxTries: 2 })(
        flaky([new TypeError()], 'ok'),
      ),
    );
    expect(order).toEqual(['log', 'user']);
    order.length = 0;
    await twin.call(
      twin.onException(constant, TypeError, { ...base, logger: null, onBackoff })(
        flaky([new TypeError()], 'ok'),
      ),
    );
    expect(order).toEqual(['user']);
  });

  it('is silent by default', async () => {
    const write = vi.spyOn(process.stderr, 'write');
    const info = vi.spyOn(console, 'info');
    const error = vi.spyOn(console, 'error');
    await expect(
      twin.call(
        twin.onException(constant, TypeError, { ...base, maxTries: 2 })(
          flaky([new TypeError(), new TypeError()], 'ok'),
        ),
      ),
    ).rejects.toBeInstanceOf(TypeError);
    expect(write).not.toHaveBeenCalled();
    expect(info).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('writes BACKOFF <pid> lines to stderr when NODE_DEBUG names backoff as the decorator is made', async () => {
    for (const setting of ['backoff', 'http,backoff', 'net, BACKOFF', 'back*']) {
      vi.stubEnv('NODE_DEBUG', setting);
      const decorate = twin.onException(constant, TypeError, { ...base, interval: 0, maxTries: 2 });
      vi.unstubAllEnvs();
      const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      await expect(
        twin.call(
          decorate(function load() {
            throw new TypeError('down');
          }),
        ),
      ).rejects.toThrow('down');
      expect(
        write.mock.calls.map(([text]) => text),
        setting,
      ).toEqual([
        `BACKOFF ${process.pid}: Backing off load(...) for 0.0s (TypeError: down)\n`,
        `BACKOFF ${process.pid}: Giving up load(...) after 2 tries (TypeError: down)\n`,
      ]);
      write.mockRestore();
    }
  });

  it('stays silent when NODE_DEBUG names other sections only, or is set after the decorator is made', async () => {
    // A dot is no wildcard: back.off does not name backoff.
    vi.stubEnv('NODE_DEBUG', 'http,backofff,back.off');
    const other = twin.onException(constant, TypeError, { ...base, interval: 0, maxTries: 2 });
    vi.stubEnv('NODE_DEBUG', '');
    const before = twin.onException(constant, TypeError, { ...base, interval: 0, maxTries: 2 });
    vi.stubEnv('NODE_DEBUG', 'backoff');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const decorate of [other, before]) {
      await expect(
        twin.call(decorate(flaky([new TypeError(), new TypeError()], 1))),
      ).rejects.toBeInstanceOf(TypeError);
    }
    expect(write).not.toHaveBeenCalled();
  });

  it('logger: null silences NODE_DEBUG=backoff too', async () => {
    vi.stubEnv('NODE_DEBUG', 'backoff');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const decorate = twin.onException(constant, TypeError, {
      ...base,
      logger: null,
      interval: 0,
      maxTries: 2,
    });
    await expect(
      twin.call(decorate(flaky([new TypeError(), new TypeError()], 1))),
    ).rejects.toBeInstanceOf(TypeError);
    expect(write).not.toHaveBeenCalled();
  });

  it('says retryContext in the block form', async () => {
    const { lines, logger } = capture();
    await expect(
      twin.loop(
        twin.retryContext(RangeError, constant, { ...base, logger, interval: 0.5, maxTries: 2 }),
        (run) =>
          run(() => {
            throw new RangeError('ctx');
          }),
      ),
    ).rejects.toThrow('ctx');
    expect(lines).toEqual([
      ['info', 'Backing off retryContext(...) for 0.5s (RangeError: ctx)'],
      ['error', 'Giving up retryContext(...) after 2 tries (RangeError: ctx)'],
    ]);
  });
});

describe('how outcomes render in log lines', () => {
  it.each([
    [new TypeError('fetch failed'), 'TypeError: fetch failed'],
    [new RangeError(''), 'RangeError'],
    [Object.assign(new Error('x'), { name: 'HttpError' }), 'HttpError: x'],
    ['a string', 'a string'],
    [42, '42'],
    [false, 'false'],
    [null, 'null'],
    [undefined, 'undefined'],
    [10n, '10'],
    [Symbol('s'), 'Symbol(s)'],
    [[1, 'a'], '[1,"a"]'],
    [{ status: 503 }, '{"status":503}'],
    [new Map(), '[object Map]'],
    [
      Object.assign(new Error('with its own toString'), { toString: () => 'custom' }),
      'Error: with its own toString',
    ],
  ])('%s → %s', (value, expected) => {
    expect(render(value)).toBe(expected);
  });

  it('cuts JSON to 200 characters', () => {
    const text = render({ long: 'x'.repeat(500) });
    expect(text).toHaveLength(200);
    expect(text.startsWith('{"long":"xxx')).toBe(true);
    expect(text.endsWith('…')).toBe(true);
    // Exactly 200 characters are kept as they are.
    const fits = { long: 'x'.repeat(200 - '{"long":""}'.length) };
    expect(render(fits)).toBe(JSON.stringify(fits));
    expect(render(fits)).toHaveLength(200);
  });

  it('falls back to String() for what JSON cannot show', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(render(circular)).toBe('[object Object]');
    expect(render({ big: 1n })).toBe('[object Object]');
    expect(render(Object.create(null))).toBe('{}');
    const unprintable = new (class Unprintable {
      toString(): string {
        throw new Error('no');
      }
    })();
    expect(render(unprintable)).toBe('[object Object]');
  });
});
