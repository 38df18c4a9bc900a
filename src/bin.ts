#!/usr/bin/env node
// The `backoff-ts` command: see cli.ts. Ctrl-C and SIGTERM stop both the wait and the command.
import { main } from './cli.js';

const interrupt = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => interrupt.abort(name));
}
process.exitCode = await main(process.argv.slice(2), { signal: interrupt.signal });
