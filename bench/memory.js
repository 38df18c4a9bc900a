// Heap bytes per pending retry: 50,000 calls of one library, each failed once and now waiting a
// minute. Run in a fresh process per library: node --expose-gc bench/memory.js <library>
import { libraries } from './libraries.js';

const CALLS = 50_000;
const name = process.argv[2];
const library = libraries[name];
if (!library || typeof globalThis.gc !== 'function') {
  console.error('usage: node --expose-gc bench/memory.js <library>');
  process.exit(2);
}
const failure = new Error('down');
const fail = () => Promise.reject(failure);
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc();
  globalThis.gc();
};

const wrapped = library.wrap(fail, { tries: 3, wait: 60 });
await settle();
const before = process.memoryUsage().heapUsed;
const pending = [];
for (let i = 0; i < CALLS; i++) pending.push(wrapped(i).catch(() => {}));
await settle();
const after = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ library: name, bytesPerRetry: (after - before) / CALLS }));
process.exit(0);
