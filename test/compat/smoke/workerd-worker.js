// The worker of the workerd smoke (test/compat/smoke/workerd.mjs): the async API of the built package on
// workerd, Cloudflare's runtime, which has neither setImmediate nor MessageChannel nor a way to
// block. It answers each request with the outcome of every check as JSON.
import * as backoff from '../../../dist/index.js';
import { VirtualClock } from '../../../dist/testing.js';

const checks = {
  async 'async retries'() {
    let calls = 0;
    const wrapped = backoff.onException(backoff.constant, TypeError, {
      interval: 0.01,
      jitter: null,
      logger: null,
    })(async () => {
      calls += 1;
      if (calls < 3) throw new TypeError('flaky');
      return calls;
    });
    return (await wrapped()) === 3;
  },
  async 'zero waits'() {
    let calls = 0;
    const wrapped = backoff.onException(backoff.constant, Error, { interval: 0, logger: null })(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('again');
        return calls;
      },
    );
    return (await wrapped()) === 3;
  },
  async 'a per-attempt timeout'() {
    let calls = 0;
    const wrapped = backoff.onException(backoff.constant, Error, {
      interval: 0,
      timeout: 0.05,
      logger: null,
    })(async () => {
      const signal = backoff.attemptSignal();
      calls += 1;
      if (calls === 1) {
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      }
      return calls;
    });
    return (await wrapped()) === 2;
  },
  async 'virtual time'() {
    const clock = new VirtualClock();
    let calls = 0;
    await backoff.onException(backoff.expo, Error, { clock, jitter: null, logger: null })(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('again');
      },
    )();
    return clock.sleeps.join() === '1,2';
  },
  async 'a sync wait cannot block here: a TypeError'() {
    try {
      backoff.onExceptionSync(backoff.constant, Error, { interval: 0.01, logger: null })(() => {
        throw new Error('x');
      })();
    } catch (error) {
      return error instanceof TypeError && /cannot block/.test(error.message);
    }
    return false;
  },
};

export default {
  async fetch() {
    const results = {};
    for (const [name, check] of Object.entries(checks)) {
      try {
        results[name] = await check();
      } catch (error) {
        results[name] = `${error?.name}: ${error?.message}`;
      }
    }
    return Response.json(results);
  },
};
