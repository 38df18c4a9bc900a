// Soak: a million calls with retries in one process (the built package, in a child process).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOAK = join(import.meta.dirname, '..', 'fixtures', 'soak.mjs');

describe('soak', () => {
  it('1,000,000 calls with retries: heap after GC grows < 2 MB, nothing left active, the process exits by itself', async () => {
    const child = spawn(process.execPath, ['--expose-gc', SOAK], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    let reportedAt = 0;
    child.stdout.on('data', (chunk) => {
      output += chunk;
      reportedAt = performance.now();
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    const exitedAfter = performance.now() - reportedAt;
    const report = JSON.parse(output) as {
      calls: number;
      attempts: number;
      heapGrowth: number;
      active: string[];
    };
    expect(code).toBe(0);
    expect(report.calls).toBe(1_000_000);
    expect(report.attempts).toBeGreaterThanOrEqual(2 * 1_000_000);
    expect(report.heapGrowth).toBeLessThan(2 * 1024 * 1024);
    expect(report.active).toEqual([]);
    // Nothing keeps the event loop alive after the last call.
    expect(exitedAfter).toBeLessThan(1000);
  }, 240_000);
});
