// 100,000 pending calls sharing one AbortSignal (the README's "one signal may serve any number of
// calls"): the time to set them up and to settle them all after the abort, against setting up the
// same calls without a signal. Run in a fresh process: node bench/signal.js
import * as backoff from '../dist/index.js';

const CALLS = 100_000;
const settle = () => new Promise((resolve) => setImmediate(resolve));
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/** Starts the calls and lets each reach its wait; resolves to the set-up time and the calls. */
async function setUp(signal) {
  const wrapped = backoff.onException(backoff.constant, Error, {
    logger: null,
    jitter: null,
    interval: 60,
    maxTries: 2,
    signal,
  })(() => Promise.reject(new Error('down')));
  const start = process.hrtime.bigint();
  const pending = [];
  for (let i = 0; i < CALLS; i++) pending.push(wrapped().catch((error) => error));
  for (let i = 0; i < 3; i++) await settle();
  return { setup: ms(start), pending };
}

const plain = await setUp(undefined);
const controller = new AbortController();
const shared = await setUp(controller.signal);
const start = process.hrtime.bigint();
controller.abort(new Error('shutdown'));
await Promise.all(shared.pending);
const abort = ms(start);
console.log(JSON.stringify({ calls: CALLS, noSignal: plain.setup, setup: shared.setup, abort }));
process.exit(0);
