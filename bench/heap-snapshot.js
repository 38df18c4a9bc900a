// What one pending retry holds, by object kind: heap snapshots before and after 10,000 calls of
// one library, each failed once and now waiting a minute, diffed per call.
// Run: node --expose-gc bench/heap-snapshot.js <library> [expo]   (libraries: see bench/libraries.js)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { failingWrapped, libraryFromArgs, settle, startCalls } from './pending.js';

const CALLS = 10_000;
const name = process.argv[2];
const wrapped = failingWrapped(
  libraryFromArgs('node --expose-gc bench/heap-snapshot.js <library> [expo]'),
);

/** Bytes and counts per object kind (type and constructor name) in a snapshot file. */
function kinds(file) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'));
  const width = snapshot.meta.node_fields.length;
  const types = snapshot.meta.node_types[0];
  const totals = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i]];
    const label = type === 'string' || type === 'concatenated string' ? '' : strings[nodes[i + 1]];
    const key = `${type}: ${label.slice(0, 50)}`;
    const total = totals.get(key) ?? { count: 0, bytes: 0 };
    total.count += 1;
    total.bytes += nodes[i + 3];
    totals.set(key, total);
  }
  return totals;
}

const dir = mkdtempSync(join(tmpdir(), 'backoff-heap-'));
try {
  await settle();
  const beforeFile = writeHeapSnapshot(join(dir, 'before.heapsnapshot'));
  const pending = startCalls(wrapped, CALLS);
  await settle();
  // Both snapshots are taken before either is read, so that neither holds the other's analysis.
  const after = kinds(writeHeapSnapshot(join(dir, 'after.heapsnapshot')));
  const before = kinds(beforeFile);
  const rows = [];
  for (const [key, { count, bytes }] of after) {
    const old = before.get(key) ?? { count: 0, bytes: 0 };
    const perCall = (bytes - old.bytes) / CALLS;
    if (Math.abs(perCall) >= 4) rows.push([key, (count - old.count) / CALLS, perCall]);
  }
  rows.sort((a, b) => b[2] - a[2]);
  console.log(`${name}: per pending retry (${pending.length} calls waiting)`);
  for (const [key, count, bytes] of rows) {
    console.log(
      `  ${key.padEnd(44)} ${count.toFixed(2).padStart(6)} × ${bytes.toFixed(0).padStart(5)} B`,
    );
  }
  console.log(
    `  ${'total'.padEnd(44)} ${rows
      .reduce((sum, row) => sum + row[2], 0)
      .toFixed(0)
      .padStart(14)} B`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
