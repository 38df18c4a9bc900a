// What the memory measurements share: the library named on the command line, and calls of it that
// each failed once and now wait a minute (a pending retry).
import { libraries } from './libraries.js';

/** The library named by the first argument; exits with `usage` when it is unknown or gc is off. */
export function libraryFromArgs(usage) {
  const library = libraries[process.argv[2]];
  if (!library || typeof globalThis.gc !== 'function') {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return library;
}

/**
 * A wrapped function whose every attempt fails with a fresh Error: 3 tries, a minute between them — constant waits,
 * or exponential ones (`expo`, doubling) when the command line says `expo`.
 */
export function failingWrapped(library) {
  const factor = process.argv[3] === 'expo' ? 2 : 1;
  // A fresh Error (with its stack) per failure, as real failures are: a library that holds the
  // last failure through the wait pays for it here.
  return library.wrap(() => Promise.reject(new Error('down')), { tries: 3, wait: 60, factor });
}

/** Starts `count` calls of `wrapped`; they stay pending, waiting to retry. */
export function startCalls(wrapped, count) {
  const pending = [];
  for (let i = 0; i < count; i++) pending.push(wrapped(i).catch(() => {}));
  return pending;
}

/** Lets the calls reach their wait, then collects garbage. */
export async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  globalThis.gc();
  globalThis.gc();
}
