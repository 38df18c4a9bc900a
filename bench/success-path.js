// Success path: the cost of a wrapped call whose first attempt succeeds, as a ratio to a bare
// call, measured in one run (the machines are shared and noisy: read the ratios).
// Run: npm run build && node bench/success-path.js
import * as backoff from '../dist/index.js';

const N = 2_000_000;
const ROUNDS = 5;
const asyncTarget = async (x) => x + 1;
const syncTarget = (x) => x + 1;

const cases = {
  'bare await fn()': asyncTarget,
  'onException (maxTries 5)': backoff.onException(backoff.expo, Error, { maxTries: 5 })(
    asyncTarget,
  ),
  'onException (maxTime 60)': backoff.onException(backoff.expo, Error, { maxTime: 60 })(
    asyncTarget,
  ),
  'onException (timeout 10)': backoff.onException(backoff.expo, Error, { timeout: 10 })(
    asyncTarget,
  ),
  'same, reading attemptSignal()': backoff.onException(backoff.expo, Error, { timeout: 10 })(
    async (x) => (backoff.attemptSignal().aborted ? 0 : x + 1),
  ),
  'onException (a breaker)': backoff.onException(backoff.expo, Error, {
    maxTries: 5,
    breaker: backoff.circuitBreaker(),
  })(asyncTarget),
  'onPredicate (maxTries 5)': backoff.onPredicate(backoff.expo, (v) => v < 0, { maxTries: 5 })(
    asyncTarget,
  ),
};
const syncCases = {
  'bare fn()': syncTarget,
  'onExceptionSync (maxTries 5)': backoff.onExceptionSync(backoff.expo, Error, { maxTries: 5 })(
    syncTarget,
  ),
};

async function timeAsync(fn) {
  const start = process.hrtime.bigint();
  let sum = 0;
  for (let i = 0; i < N; i++) sum += await fn(i);
  if (sum === 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - start) / N;
}

function timeSync(fn) {
  const start = process.hrtime.bigint();
  let sum = 0;
  for (let i = 0; i < N; i++) sum += fn(i);
  if (sum === 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - start) / N;
}

const best = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(cases))
    best[name] = Math.min(best[name] ?? Infinity, await timeAsync(fn));
  for (const [name, fn] of Object.entries(syncCases))
    best[name] = Math.min(best[name] ?? Infinity, timeSync(fn));
}
const row = (name, base) =>
  `${name.padEnd(30)} ${best[name].toFixed(1).padStart(7)} ns  ${(best[name] / best[base]).toFixed(2)}x`;
console.log(`node ${process.version}, ${N.toLocaleString()} calls, best of ${ROUNDS} rounds`);
for (const name of Object.keys(cases)) console.log(row(name, 'bare await fn()'));
for (const name of Object.keys(syncCases)) console.log(row(name, 'bare fn()'));
