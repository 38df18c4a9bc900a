// npm run simulate: a retry storm in virtual time. Clients send requests at a steady rate to a
// server with finite capacity; each request is retried by backoff-ts (expo from 100 ms, full
// jitter, 5 tries) under each budget preset and under none. Prints amplification (attempts per
// request) and success rate. Runs the real library on a discrete-event clock: no real sleeping.
import * as backoff from 'backoff-ts';
import { seededRandom } from 'backoff-ts/testing';

/** @typedef {[time: number, order: number, callback: () => void]} Entry */

/** A clock whose sleeps wake in virtual-time order, one at a time, as a scheduler runs them. */
class EventClock {
  time = 0;
  /** @type {Entry[]} a binary heap, earliest first */
  #heap = [];
  #order = 0;

  now() {
    return this.time;
  }

  /** @param {number} seconds */
  sleep(seconds) {
    return new Promise((resolve) => this.at(this.time + seconds, () => resolve(undefined)));
  }

  sleepSync() {
    throw new Error('the simulation runs the async twin');
  }

  /**
   * @param {number} time
   * @param {() => void} callback
   */
  at(time, callback) {
    const heap = this.#heap;
    heap.push([time, this.#order++, callback]);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Runs every event in time order, letting each one's promise reactions finish first. */
  async run() {
    const heap = this.#heap;
    while (heap.length > 0) {
      const [time, , callback] = /** @type {Entry} */ (heap[0]);
      this.#swap(0, heap.length - 1);
      heap.pop();
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        let first = i;
        if (left < heap.length && this.#before(left, first)) first = left;
        if (left + 1 < heap.length && this.#before(left + 1, first)) first = left + 1;
        if (first === i) break;
        this.#swap(i, first);
        i = first;
      }
      this.time = time;
      callback();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** @param {number} i @param {number} j */
  #before(i, j) {
    const a = /** @type {Entry} */ (this.#heap[i]);
    const b = /** @type {Entry} */ (this.#heap[j]);
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  /** @param {number} i @param {number} j */
  #swap(i, j) {
    const heap = this.#heap;
    [heap[i], heap[j]] = [/** @type {Entry} */ (heap[j]), /** @type {Entry} */ (heap[i])];
  }
}

class Overloaded extends Error {
  /** @override */
  name = 'Overloaded';
}

export const budgets = {
  none: () => undefined,
  tokenBucket: () => backoff.tokenBucket(),
  throttle: () => backoff.throttle({ maxTokens: 100, tokenRatio: 0.1 }),
  ratio: (/** @type {EventClock} */ clock) => backoff.ratio({ clock }),
};

/**
 * @typedef {{ budget?: keyof typeof budgets, failure: number, load: number, capacity?: number, seconds?: number, seed?: number }} Scenario
 */

/**
 * Simulates `seconds` of traffic at `load` × `capacity` requests per second. Each attempt fails
 * with probability `failure`, and every attempt past the server's capacity in a one-second window
 * fails too (an overloaded server sheds load).
 *
 * @param {Scenario} scenario
 */
export async function simulate({
  budget = 'none',
  failure,
  load,
  capacity = 2000,
  seconds = 10,
  seed = 1,
}) {
  const clock = new EventClock();
  const random = seededRandom(seed);
  const serverRandom = seededRandom(seed + 1);
  const window = new Map(); // second → attempts
  let attempts = 0;
  const handle = () => {
    attempts += 1;
    const second = Math.floor(clock.time);
    const count = (window.get(second) ?? 0) + 1;
    window.set(second, count);
    if (count > capacity || serverRandom() < failure) throw new Overloaded('503');
    return 'ok';
  };
  const request = backoff.onException(backoff.expo, Overloaded, {
    factor: 0.1,
    maxTries: 5,
    clock,
    random,
    logger: null,
    raiseOnGiveup: false,
    budget: budgets[budget](clock),
  })(handle);
  const rate = load * capacity;
  const total = Math.round(rate * seconds);
  let successes = 0;
  for (let i = 0; i < total; i++) {
    clock.at(i / rate, () => {
      request().then((value) => {
        if (value === 'ok') successes += 1;
      });
    });
  }
  await clock.run();
  return {
    budget,
    failure,
    load,
    requests: total,
    attempts,
    amplification: attempts / total,
    successRate: successes / total,
  };
}

export const FAILURES = [0.01, 0.1, 0.5, 1.0];
export const LOADS = [0.8, 1.1, 1.5, 2.0];

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(
    'Retry storm: 10 s of traffic, server capacity 2,000 attempts/s, expo from 100 ms, 5 tries',
  );
  console.log('amplification = attempts per request; success = requests that succeeded\n');
  const header = ['failure', 'load', ...Object.keys(budgets).map((name) => name.padStart(20))].join(
    '  ',
  );
  console.log(header);
  for (const failure of FAILURES) {
    for (const load of LOADS) {
      const cells = [];
      for (const budget of /** @type {(keyof typeof budgets)[]} */ (Object.keys(budgets))) {
        const r = await simulate({ budget, failure, load });
        cells.push(
          `${r.amplification.toFixed(2)}x ${(r.successRate * 100).toFixed(1).padStart(5)}%`.padStart(
            20,
          ),
        );
      }
      console.log(
        [`${(failure * 100).toFixed(0)}%`.padStart(7), `${load}x`.padStart(4), ...cells].join('  '),
      );
    }
  }
}
