// Server-directed waits: the ServerDirected marker, serverWait parsing, retryAfter with maxTime and
// its options; waits run in virtual time. (Against a real server: test/integration/retry-after-server.test.ts.)
import { describe, expect, it, vi } from 'vitest';
import { serverWait } from '../../src/http/retry-after.js';
import {
  fibo,
  onException,
  onPredicate,
  retryAfter,
  type ServerDirected,
  type WaitGenerator,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing.js';

describe('ServerDirected: a wait your own generator says came from the server', () => {
  const serverSays =
    (seconds: number): WaitGenerator =>
    () => ({
      next: (): IteratorResult<number> & ServerDirected => ({
        done: false,
        value: seconds,
        fromServer: true,
      }),
    });

  it('is never jittered (a floor) and never cut to fit maxTime', async () => {
    const clock = new VirtualClock();
    const onGiveup = vi.fn();
    const target = vi.fn(() => {
      throw new TypeError('busy');
    });
    const wrapped = onException(serverSays(3), TypeError, {
      clock,
      logger: null,
      jitter: (_seconds: number) => 0,
      maxTime: 10,
      onGiveup,
    })(target);
    await expect(wrapped()).rejects.toThrow('busy');
    // 3 s, 3 s, 3 s; then the next 3 s would pass maxTime (9 + 3 > 10): give up, not wait 1 s.
    expect(clock.sleeps).toEqual([3, 3, 3]);
    expect(onGiveup.mock.calls[0]?.[0].reason).toBe('maxTime');
  });
});

describe('serverWait parsing', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  it.each([
    [{ headers: new Headers({ 'Retry-After': '120' }) }, 120],
    [{ headers: { 'Retry-After': '2.5' } }, 2.5],
    [{ headers: { 'RETRY-AFTER-MS': '20' } }, 0.02],
    [{ response: { headers: new Headers({ 'x-amz-retry-after': '1000' }) } }, 1],
    [{ headers: { 'retry-after': 'Sat, 28 Nov 2026 12:01:00 GMT' } }, 60],
    [{ headers: { 'retry-after': 'tomorrow' } }, undefined],
    [{ headers: { 'retry-after': '12abc' } }, undefined],
    [{ headers: { 'retry-after': 5 } }, undefined],
    [{ headers: { 'retry-after-ms': 1500 } }, undefined],
    [{ headers: { 'retry-after': '1.25' } }, 1.25],
    [{ headers: null, response: { headers: { 'retry-after': '4' } } }, 4],
    [{ response: { response: { headers: { 'retry-after': '4' } } } }, undefined],
    [{ headers: { 'retry-after-ms': 'x', 'retry-after': '3' } }, 3],
    [{}, undefined],
    [null, undefined],
    [new Error('no headers'), undefined],
    // A 429's rate-limit reset: delta-seconds, or (X-RateLimit-Reset) a Unix time past 10^9.
    [{ status: 429, headers: { 'ratelimit-reset': '12' } }, 12],
    [{ status: 429, headers: { 'x-ratelimit-reset': '30' } }, 30],
    [{ status: 429, headers: { 'x-ratelimit-reset': String(now / 1000 + 45) } }, 45],
    [{ status: 429, headers: { 'x-ratelimit-reset': String(now / 1000 - 45) } }, 0],
    [{ response: { status: 429, headers: { 'RateLimit-Reset': '7' } } }, 7],
    [{ status: 429, headers: { 'ratelimit-reset': 'soon', 'x-ratelimit-reset': '9' } }, 9],
    [{ status: 429, headers: { 'retry-after': '3', 'ratelimit-reset': '12' } }, 3],
    [{ status: 429, headers: { 'retry-after': 'junk', 'ratelimit-reset': '12' } }, 12],
    // Not on other statuses: a 200 or a 503 may announce its limits without asking for a wait.
    [{ status: 503, headers: { 'ratelimit-reset': '12' } }, undefined],
    [{ headers: { 'ratelimit-reset': '12' } }, undefined],
  ])('%o → %s', (outcome, expected) => {
    expect(serverWait(outcome, now)).toBe(expected);
  });
});

describe('serverWait on what is no response', () => {
  it('ends on a response that refers to itself', () => {
    const cyclic: { response?: unknown } = {};
    cyclic.response = cyclic;
    expect(serverWait(cyclic)).toBeUndefined();
  });
});

describe('retryAfter and maxTime', () => {
  it('a server wait of exactly the time left is taken', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const wrapped = onException(retryAfter, Object, { maxTime: 10, clock, logger: null })(
      async () => {
        calls += 1;
        if (calls === 1) throw { headers: { 'retry-after': '10' } };
        return 'done';
      },
    );
    expect(await wrapped()).toBe('done');
    expect(clock.sleeps).toEqual([10]);
  });
});

describe('retryAfter with raiseOnGiveup: false', () => {
  it('a server wait past maxTime ends the call with undefined', async () => {
    const onGiveup = vi.fn();
    const wrapped = onException(retryAfter, Object, {
      maxTime: 10,
      clock: new VirtualClock(),
      logger: null,
      raiseOnGiveup: false,
      onGiveup,
    })(async () => {
      throw { headers: { 'retry-after': '11' } };
    });
    expect(await wrapped()).toBeUndefined();
    expect(onGiveup).toHaveBeenCalledWith(expect.objectContaining({ reason: 'maxTime' }));
  });
});

describe('retryAfter options', () => {
  it('are checked when the decorator is made', () => {
    expect(() => onException(retryAfter, Error, { maxServerWait: -1 })).toThrow(RangeError);
    expect(() => onException(retryAfter, Error, { fallback: 3 as never })).toThrow(/`fallback`/);
    expect(() =>
      onException(retryAfter, Error, { fallback: fibo, fallbackOptions: { factor: 2 } }),
    ).toThrow(/Unknown option `factor`.*fibo/);
    expect(() => onException(retryAfter, Error, { maxServerWit: 5 } as never)).toThrow(
      /Unknown option `maxServerWit`/,
    );
  });
});

describe('serverWait at its edges', () => {
  it('reads the status beside the headers, or from the response an error carries, or none', () => {
    const reset = { 'ratelimit-reset': '5' };
    expect(serverWait({ status: 429, headers: reset })).toBe(5);
    expect(serverWait({ headers: reset, response: { status: 429 } })).toBe(5);
    expect(serverWait({ headers: reset, response: null })).toBeUndefined();
    expect(serverWait({ headers: reset, response: 429 })).toBeUndefined();
    expect(serverWait({ status: 503, headers: reset })).toBeUndefined();
  });

  it('skips a malformed rate-limit header for the next one', () => {
    expect(
      serverWait({ status: 429, headers: { 'ratelimit-reset': 'soon', 'x-ratelimit-reset': '7' } }),
    ).toBe(7);
  });

  it('takes a reset of exactly 10^9 as a Unix time', () => {
    const now = 1e12; // ms: 10^9 s
    expect(serverWait({ status: 429, headers: { 'x-ratelimit-reset': '1000000000' } }, now)).toBe(
      0,
    );
    expect(serverWait({ status: 429, headers: { 'x-ratelimit-reset': '999999999' } }, now)).toBe(
      999_999_999,
    );
  });

  it('takes only whole numbers and dates: no junk before a number, no date without a name in it', () => {
    expect(serverWait({ headers: { 'retry-after': ' 5 ' } })).toBe(5);
    expect(serverWait({ headers: { 'retry-after': 'x5' } })).toBeUndefined();
    expect(serverWait({ headers: { 'retry-after-ms': 'x250' } })).toBeUndefined();
    // Date.parse reads '2026-12-02' as a date, but an HTTP-date always names its day and month.
    expect(serverWait({ headers: { 'retry-after': '2026-12-02' } })).toBeUndefined();
    expect(
      serverWait(
        { headers: { 'retry-after': 'Wed, 02 Dec 2026 00:00:10 GMT' } },
        Date.UTC(2026, 11, 2),
      ),
    ).toBe(10);
  });
});

describe('retryAfter on responses (no network)', () => {
  const respond = (status: number, headers: Record<string, string> = {}) =>
    new Response(null, { status, headers });

  it('waits what the server says; without a usable header the fallback decides, jittered', async () => {
    const answers = [
      respond(503, { 'retry-after': '3' }),
      respond(503),
      respond(503, { 'retry-after': 'soon' }),
      respond(200),
    ];
    const clock = new VirtualClock();
    const get = onPredicate(retryAfter, (response: Response) => response.status === 503, {
      clock,
      logger: null,
      jitter: (seconds: number) => seconds / 2,
    })(async () => answers.shift() as Response);
    expect((await get()).status).toBe(200);
    // 3 s from the server (never jittered); then expo's 1 and 2, halved by the jitter.
    expect(clock.sleeps).toEqual([3, 0.5, 1]);
  });
});

describe('a server wait past maxServerWait', () => {
  const respond = (retryAfterValue: string) =>
    new Response('busy', { status: 503, headers: { 'retry-after': retryAfterValue } });
  const busy = ({ header, ...options }: Record<string, unknown>) => {
    const clock = new VirtualClock();
    const onGiveup = vi.fn();
    const lines: string[] = [];
    const logger = {
      info: (line: string) => lines.push(line),
      error: (line: string) => lines.push(line),
    };
    let calls = 0;
    const get = onPredicate(retryAfter, (response: Response) => response.status === 503, {
      clock,
      logger,
      onGiveup,
      maxTries: 3,
      ...options,
    })(async function getOrder() {
      calls += 1;
      return respond(header as string);
    });
    return { clock, onGiveup, lines, get, calls: () => calls };
  };

  it('gives up at once, reason serverWait: a retry sooner is one the server refused', async () => {
    const { clock, onGiveup, lines, get, calls } = busy({ header: '120', maxServerWait: 60 });
    const response = await get();
    expect(await response.text()).toBe('busy');
    expect(calls()).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ tries: 1, reason: 'serverWait' });
    expect(lines).toEqual([
      'Giving up getOrder(...) after 1 tries, the server asked to wait past maxServerWait ([object Response])',
    ]);
  });

  it('a wait of exactly maxServerWait is taken', async () => {
    const { clock, get, calls } = busy({ header: '60', maxServerWait: 60 });
    await get();
    expect(clock.sleeps).toEqual([60, 60]);
    expect(calls()).toBe(3);
  });

  it('cutServerWait: true waits maxServerWait instead, and retries', async () => {
    const { clock, onGiveup, get } = busy({
      header: '120',
      maxServerWait: 60,
      cutServerWait: true,
      // The cut wait is still the server's: never jittered.
      jitter: (seconds: number) => seconds / 2,
    });
    await get();
    expect(clock.sleeps).toEqual([60, 60]);
    expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ reason: 'maxTries' });
  });

  it('a wait too long to count (400 digits) gives up, even with no maxServerWait or cut', async () => {
    for (const options of [
      {},
      { cutServerWait: true },
      { maxServerWait: 60, cutServerWait: false },
    ]) {
      const { clock, onGiveup, get } = busy({ header: '9'.repeat(400), ...options });
      expect((await get()).status).toBe(503);
      expect(clock.sleeps).toEqual([]);
      expect(onGiveup.mock.calls[0]?.[0]).toMatchObject({ reason: 'serverWait' });
    }
    // With a cut and a finite maxServerWait, it is cut like any other.
    const { clock } = busy({ header: '9'.repeat(400), maxServerWait: 5, cutServerWait: true });
    expect(clock.sleeps).toEqual([]);
  });

  it('the exception twins give up with the last error, as with any other reason', async () => {
    const clock = new VirtualClock();
    const error = Object.assign(new Error('busy'), { response: respond('120') });
    const get = onException(retryAfter, Error, { clock, logger: null, maxServerWait: 60 })(
      async () => {
        throw error;
      },
    );
    await expect(get()).rejects.toBe(error);
    const quiet = onException(retryAfter, Error, {
      clock,
      logger: null,
      maxServerWait: 60,
      raiseOnGiveup: false,
    })(async () => {
      throw error;
    });
    await expect(quiet()).resolves.toBeUndefined();
  });

  it('cutServerWait must be a boolean', () => {
    expect(() => onException(retryAfter, Error, { cutServerWait: 'yes' as never })).toThrow(
      'Expected `cutServerWait` to be a boolean, got "yes"',
    );
  });
});
