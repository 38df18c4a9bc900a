// Heap bytes per pending retry: 50,000 calls of one library, each failed once and now waiting a
// minute. Run in a fresh process per library: node --expose-gc bench/memory.js <library> [expo]
import { failingWrapped, libraryFromArgs, settle, startCalls } from './pending.js';

const CALLS = 50_000;
const name = process.argv[2];
const wrapped = failingWrapped(
  libraryFromArgs('node --expose-gc bench/memory.js <library> [expo]'),
);
await settle();
const before = process.memoryUsage().heapUsed;
const pending = startCalls(wrapped, CALLS);
await settle();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    library: name,
    bytesPerRetry: (after - before) / CALLS,
    pending: pending.length,
  }),
);
process.exit(0);
