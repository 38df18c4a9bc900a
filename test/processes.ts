// The processes a test started, found by a mark in their environment: every descendant inherits it
// (grandchildren, double forks, processes re-parented to init), so "nothing is left behind" is
// checked without knowing their PIDs beforehand and without killing anything by name.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable that carries a test's mark. */
export const MARK = 'BACKOFF_TS_TEST_MARK';

/** A fresh mark, and the environment that gives it to what a test starts. */
export function newMark(): { mark: string; env: NodeJS.ProcessEnv } {
  const mark = randomUUID();
  return { mark, env: { ...process.env, [MARK]: mark } };
}

/** The live processes (zombies excluded: they have ended) that carry the mark: "pid command". */
export function marked(mark: string): string[] {
  const needle = `${MARK}=${mark}\0`;
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'latin1');
      if (!(environ.startsWith(needle) || environ.includes(`\0${needle}`))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'latin1').replaceAll('\0', ' ');
      found.push(`${name} ${command.trim()}`);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/**
 * The marked processes still alive after `graceMs` (the kernel may take a moment to reap what was
 * killed); each is then killed by its PID, so that one failing test does not leak into the next.
 */
export async function leftBehind(mark: string, graceMs = 2_000): Promise<string[]> {
  const until = performance.now() + graceMs;
  let left = marked(mark);
  while (left.length > 0 && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    left = marked(mark);
  }
  for (const entry of left) {
    try {
      process.kill(Number(entry.split(' ')[0]), 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return left;
}
