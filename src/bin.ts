#!/usr/bin/env node
// The `backoff-ts` command: see cli/main.ts. Ctrl-C and SIGTERM stop both the wait and the command.
import { main } from './cli/main.js';

// The first SIGINT / SIGTERM stops the wait and the command (SIGTERM, then SIGKILL after the
// grace); SIGHUP, SIGQUIT, SIGALRM, SIGUSR1 and SIGUSR2 do the same but reach the command as
// themselves, as GNU timeout forwards them (unhandled, they would end the tool and leave the
// command running: it is in a session of its own). A second signal kills the command at once.
const interrupt = new AbortController();
const kill = new AbortController();
for (const name of [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGALRM',
  'SIGUSR1',
  'SIGUSR2',
] as const) {
  process.on(name, () => {
    if (interrupt.signal.aborted) kill.abort(name);
    else interrupt.abort(name);
  });
}
process.exitCode = await main(process.argv.slice(2), {
  signal: interrupt.signal,
  kill: kill.signal,
});
