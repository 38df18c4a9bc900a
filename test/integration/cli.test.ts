// The command-line tool, running real commands: in-process with virtual time for the retry
// logic, and as a real process (the built bin) for stdin and signals.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { VirtualClock } from '../../src/testing.js';
import { leftBehind, MARK, newMark } from '../processes.js';

const FAILS = join(import.meta.dirname, '..', 'fixtures', 'fails.mjs');
const BIN = join(import.meta.dirname, '..', '..', 'dist', 'bin.js');
let dir: string;
let count: string;
let mark: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backoff-cli-'));
  count = join(dir, 'count');
  // Everything a test starts, in-process or through the bin, inherits the mark.
  mark = newMark().mark;
  process.env[MARK] = mark;
});
afterEach(async () => {
  delete process.env[MARK];
  // No process left behind: nothing the test started is alive once the tool has exited.
  expect(await leftBehind(mark)).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

/** Runs the tool in-process on a VirtualClock; collects its output. */
async function run(argv: string[]) {
  const clock = new VirtualClock();
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    clock,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  const runs = Number(await readFile(count, 'utf8').catch(() => '0'));
  return { code, stdout, stderr, sleeps: clock.sleeps, runs };
}

const fails = (...args: (string | number)[]) => [
  '--',
  process.execPath,
  FAILS,
  count,
  ...args.map(String),
];

describe('retrying a command', () => {
  it('the command starts at the first word that is no option: `--` is optional', async () => {
    const withoutDashes = await run(['--jitter', 'none', ...fails(1).slice(1)]);
    expect(withoutDashes).toMatchObject({ code: 0, runs: 2, sleeps: [1] });
    // The command's own options are its own, with or without `--` (Bun drops a leading `--`).
    const shell = await run(['--max-tries', '1', 'sh', '-c', 'test "$0-$1" = a-b', 'a', 'b']);
    expect(shell.code).toBe(0);
    const wrong = await run(['--max-tries', '1', 'sh', '-c', 'test "$0-$1" = a-b', 'a', 'c']);
    expect(wrong.code).toBe(1);
    const valued = await run(['--max-tries', '1', '--wait=constant', 'sh', '-c', 'exit 0']);
    expect(valued.code).toBe(0);
    // An unknown option before the command is still refused.
    const unknown = await run(['--nope', 'sh', '-c', 'exit 0']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--nope'/);
  });

  it('retries while it exits non-zero, then exits 0', async () => {
    const result = await run(['--jitter', 'none', ...fails(2)]);
    expect(result).toMatchObject({ code: 0, runs: 3, sleeps: [1, 2] });
    const command = `${process.execPath} ${FAILS} ${count} 2`;
    expect(result.stderr).toBe(
      `Backing off ${command} for 1.0s (exit 1)\nBacking off ${command} for 2.0s (exit 1)\n`,
    );
  });

  it('gives up with the command’s last exit code', async () => {
    const result = await run(['--max-tries', '3', '--jitter', 'none', ...fails(10, 42)]);
    expect(result).toMatchObject({ code: 42, runs: 3, sleeps: [1, 2] });
    expect(result.stderr).toMatch(/Giving up .* after 3 tries \(exit 42\)\n$/);
  });

  it('--max-time: exits 124 when it runs out', async () => {
    const result = await run([
      '--max-time',
      '25',
      '--wait',
      'constant',
      '--interval',
      '10',
      '--jitter',
      'none',
      ...fails(10),
    ]);
    expect(result).toMatchObject({ code: 124, runs: 4, sleeps: [10, 10, 5] });
    expect(result.stderr).toMatch(/after 4 tries, --max-time ran out \(exit 1\)/);
  });

  it('--on-exit: retries only the chosen codes', async () => {
    expect(await run(['--on-exit', '75,76', '--jitter', 'none', ...fails(2, 75)])).toMatchObject({
      code: 0,
      runs: 3,
    });
    await rm(count);
    expect(await run(['--on-exit', '75', ...fails(2, 1)])).toMatchObject({
      code: 1,
      runs: 1,
      sleeps: [],
    });
  });

  it('--until: retries until standard output matches, passing the output through', async () => {
    const result = await run([
      '--until',
      'ready$',
      '--wait',
      'constant',
      '--interval',
      '2',
      '--jitter',
      'none',
      ...fails(2, 0, 'booting'),
    ]);
    expect(result).toMatchObject({ code: 0, runs: 3, sleeps: [2, 2] });
    expect(result.stdout).toBe('status: booting\nstatus: booting\nrun 3: ready\n');
  });

  it('--while: retries while standard output matches', async () => {
    const result = await run([
      '--while',
      '^status: busy',
      '--jitter',
      'none',
      '--wait',
      'fibo',
      ...fails(3, 0, 'busy'),
    ]);
    expect(result).toMatchObject({ code: 0, runs: 4, sleeps: [1, 1, 2] });
  });

  it('wait options by flag: expo, fibo, constant, decay; jitter names', async () => {
    expect(
      (
        await run([
          '--base',
          '3',
          '--factor',
          '0.5',
          '--max-value',
          '4',
          '--jitter',
          'none',
          ...fails(4),
        ])
      ).sleeps,
    ).toEqual([0.5, 1.5, 4, 4]);
    await rm(count);
    expect(
      (await run(['--wait', 'fibo', '--max-value', '2', '--jitter', 'none', ...fails(4)])).sleeps,
    ).toEqual([1, 1, 2, 2]);
    await rm(count);
    const decayed = (
      await run([
        '--wait',
        'decay',
        '--initial-value',
        '8',
        '--decay-factor',
        '1',
        '--min-value',
        '2',
        '--jitter',
        'none',
        ...fails(3),
      ])
    ).sleeps;
    expect(decayed[0]).toBe(8);
    expect(decayed[2]).toBe(2);
    await rm(count);
    const equal = (
      await run(['--wait', 'constant', '--interval', '4', '--jitter', 'equal', ...fails(20)])
    ).sleeps;
    expect(equal.every((s) => s >= 2 && s <= 4)).toBe(true);
  });

  it('--quiet silences the lines; --verbose adds elapsed times', async () => {
    expect((await run(['--quiet', '--max-tries', '2', ...fails(5)])).stderr).toBe('');
    await rm(count);
    const verbose = await run(['--verbose', '--max-tries', '2', '--jitter', 'none', ...fails(5)]);
    expect(verbose.stderr).toMatch(
      /for 1\.0s \(exit 1, elapsed 0\.0s\)\n.*after 2 tries \(exit 1, elapsed 1\.0s\)\n$/,
    );
  });

  it('a command that cannot run exits 127 at once', async () => {
    const result = await run(['--', join(dir, 'no-such-command')]);
    expect(result.code).toBe(127);
    expect(result.stderr).toMatch(/cannot run .*no-such-command: command not found/);
  });

  it('a command found but not executable exits 126, as the shell and GNU timeout say', async () => {
    const script = join(dir, 'script.sh');
    await writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const result = await run(['--', script]);
    expect(result.code).toBe(126);
    expect(result.stderr).toMatch(/cannot run .*script\.sh: permission denied/);
  });

  it('--help documents it all and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const flag of [
      '--on-exit',
      '--until',
      '--while',
      '--max-tries',
      '--max-time',
      '--wait',
      '--base',
      '--factor',
      '--max-value',
      '--interval',
      '--jitter',
      '--quiet',
      '--verbose',
      '124',
      'SIGTERM',
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe('bad flags: one line, exit code 2', () => {
  it.each([
    [['--bogus', '--', 'true'], /Unknown option '--bogus'/],
    [['true'], null],
    [[], /no command given/],
    [['--max-tries', '0', '--', 'true'], /--max-tries to be a positive integer.*got 0/],
    [['--max-tries', 'many', '--', 'true'], /--max-tries: expected a decimal number, got "many"/],
    [['--max-time=-1', '--', 'true'], /--max-time to be a number of seconds >= 0.*got -1/],
    [['--max-time', '-1', '--', 'true'], /'--max-time' argument is ambiguous/],
    [
      ['--wait', 'linear', '--', 'true'],
      /--wait: expected expo, fibo, constant or decay, got "linear"/,
    ],
    [['--jitter', 'some', '--', 'true'], /--jitter: expected full, equal, random or none/],
    [['--interval', '2', '--', 'true'], /--interval is not an option of --wait expo/],
    [['--wait', 'constant', '--interval=-1', '--', 'true'], /--interval to be/],
    [['--on-exit', '0', '--', 'true'], /--on-exit: expected exit codes 1-255/],
    [['--on-exit', '1,x', '--', 'true'], /--on-exit/],
    [['--until', '(', '--', 'true'], /--until: not a valid regular expression/],
    [['--until', 'a', '--while', 'b', '--', 'true'], /exclude each other/],
    [['--max-tries', '0x10', '--', 'true'], /--max-tries: expected a decimal number, got "0x10"/],
    [['--max-time', '1_000', '--', 'true'], /--max-time: expected a decimal number/],
    [['--timeout', '0', '--', 'true'], /--timeout: expected seconds > 0, got "0"/],
    [['--kill-after', 'soon', '--', 'true'], /--kill-after: expected a decimal number/],
  ])('%j', async (argv, message) => {
    const result = await run(argv as string[]);
    if (message === null) {
      // A command without "--" is fine: positionals are the command.
      expect(result.code).toBe(0);
      return;
    }
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^backoff-ts: .*\(see --help\)\n$/);
  });
});

describe('supervising the command', () => {
  it('a command killed by a signal exits 128 + its number, as a shell reports it', async () => {
    expect((await run(['--max-tries', '1', '--', 'sh', '-c', 'kill -SEGV $$'])).code).toBe(139);
    expect((await run(['--max-tries', '1', '--', 'sh', '-c', 'kill -ABRT $$'])).code).toBe(134);
    // So --on-exit can match it.
    const retried = await run([
      '--on-exit',
      '139',
      '--max-tries',
      '2',
      '--',
      'sh',
      '-c',
      'kill -SEGV $$',
    ]);
    expect(retried.stderr).toMatch(/Backing off .* \(exit 139\)/);
  });

  it('an empty command: one line on stderr, exit 127', async () => {
    const result = await run(['--', '']);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe("backoff-ts: cannot run '': the command is empty\n");
  });

  it('--until / --while pass binary output through byte for byte', async () => {
    const bytes = Buffer.from([
      0x00, 0xff, 0xfe, 0x80, 0x0a, 0x72, 0x65, 0x61, 0x64, 0x79, 0x0a, 0xc3,
    ]);
    const chunks: Buffer[] = [];
    const code = await main(
      [
        '--until',
        'ready',
        '--',
        process.execPath,
        '-e',
        `process.stdout.write(Buffer.from(${JSON.stringify([...bytes])}))`,
      ],
      {
        clock: new VirtualClock(),
        stdout: (chunk) => {
          chunks.push(Buffer.from(chunk));
        },
        stderr: () => {},
      },
    );
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('--until that gives up exits non-zero even when the last run exited 0', async () => {
    const result = await run(['--until', 'never', '--max-tries', '2', ...fails(5, 0, 'booting')]);
    expect(result).toMatchObject({ code: 1, runs: 2 });
    const matched = await run(['--while', 'status', '--max-tries', '1', ...fails(5, 0, 'x')]);
    expect(matched.code).toBe(1);
  });

  it('--until finds a match split across reads of one line longer than its window', async () => {
    // A 64 Ki-character line, then "rea" and "dy" in later reads: the window holds no newline.
    const writes = `process.stdout.write('x'.repeat(65536));
      setTimeout(() => process.stdout.write('rea'), 200);
      setTimeout(() => process.stdout.write('dy\\n'), 400);`;
    const result = await run([
      '--until',
      'ready',
      '--max-tries',
      '1',
      '--',
      process.execPath,
      '-e',
      writes,
    ]);
    expect(result.code).toBe(0);
  });

  it('--until: `^` matches at a line start only, never where the window was cut', async () => {
    // The window (64 Ki characters) starts inside the 150,000-character line: 65,536 x and a y
    // after it is no line of its own.
    const writes = `process.stdout.write('x'.repeat(150000));
      setTimeout(() => process.stdout.write('y\\n'), 200);`;
    const result = await run([
      ...['--until', '^x{65536}y$', '--max-tries', '1', '--', process.execPath, '-e', writes],
    ]);
    expect(result.code).toBe(1); // gave up: the condition was not met
    const whole = await run([
      ...['--until', 'x{100}y$', '--max-tries', '1', '--', process.execPath, '-e', writes],
    ]);
    expect(whole.code).toBe(0);
  });

  it('--until ends a run when the command exits, though a background job holds its output', async () => {
    const pidFile = join(dir, 'pid');
    const started = performance.now();
    const result = await run([
      ...['--until', 'ready', '--timeout', '20', '--max-tries', '1', '--'],
      ...['sh', '-c', `sleep 30 & echo $! > ${pidFile}; echo ready`],
    ]);
    expect(result.code).toBe(0); // not 124: the run ended when sh did
    expect(performance.now() - started).toBeLessThan(15_000);
    // As GNU timeout leaves it: the job outlives the command that started it, and the tool.
    const job = Number(await readFile(pidFile, 'utf8'));
    expect(() => process.kill(job, 0)).not.toThrow();
    process.kill(job, 'SIGKILL');
  });

  it('--timeout stops a run that hangs: exit 124, a failed run, retried', async () => {
    const started = performance.now();
    const result = await run(['--timeout', '0.2', '--max-tries', '2', '--', 'sleep', '30']);
    expect(result.code).toBe(124);
    expect(result.stderr).toMatch(
      /Backing off sleep 30 for .* \(exit 124\)\nGiving up sleep 30 after 2 tries \(exit 124\)/,
    );
    expect(performance.now() - started).toBeLessThan(15_000); // 30 s or more if wrong
  });

  it('quotes the command in its lines as a shell would read it back', async () => {
    const argv = [
      '--max-tries',
      '2',
      '--jitter',
      'none',
      '--',
      'sh',
      '-c',
      'echo "a b"; exit 1',
      "it's",
    ];
    const result = await run(argv);
    expect(result.stderr).toContain(
      `Backing off sh -c 'echo "a b"; exit 1' 'it'\\''s' for 1.0s (exit 1)`,
    );
  });
});

describe('the built bin as a real process (npm test builds it first)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  function start(args: string[]) {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.once('close', (code) => resolve({ code, stderr })),
    );
    return { child, exited, stderr: () => stderr };
  }

  it('passes standard input and output through', async () => {
    const piped = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [
        BIN,
        '--',
        process.execPath,
        '-e',
        'process.stdin.pipe(process.stdout)',
      ]);
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.on('close', () => resolve(out));
      child.stdin.end('hello through backoff-ts\n');
    });
    expect(piped).toBe('hello through backoff-ts\n');
  });

  it('SIGTERM during a wait stops at once with 143', async () => {
    const { child, exited, stderr } = start([
      '--wait',
      'constant',
      '--interval',
      '60',
      '--',
      process.execPath,
      '-e',
      'process.exit(1)',
    ]);
    while (!stderr().includes('Backing off')) await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    child.kill('SIGTERM');
    const { code } = await exited;
    expect(code).toBe(143);
    expect(performance.now() - started).toBeLessThan(8_000); // the command would run 60 s
  });

  it('SIGINT while the command runs stops the command too, with 130', async () => {
    const marker = join(dir, 'started');
    const { child, exited } = start([
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '1'); setTimeout(() => {}, 60000)`,
    ]);
    while (!(await readFile(marker, 'utf8').catch(() => '')))
      await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code).toBe(130);
    expect(performance.now() - started).toBeLessThan(8_000); // the command would run 60 s
  });

  /** Is the process still running? (A killed one nobody has reaped yet is a zombie: not running.) */
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  };
  const waitFor = async (file: string): Promise<number> => {
    for (;;) {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.trim() !== '') return Number(text);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  /** The tool running a command that ignores SIGTERM (its children too); resolves once it runs. */
  async function startStubborn(killAfter: string) {
    const pidFile = join(dir, 'pid');
    const script = `trap '' TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done`;
    const run = start(['--kill-after', killAfter, '--', 'sh', '-c', script]);
    return { ...run, pid: await waitFor(pidFile) };
  }

  it('a command that ignores SIGTERM is killed after --kill-after; the tool never leaves it running', async () => {
    const { child, exited, pid } = await startStubborn('0.3');
    child.kill('SIGTERM');
    expect((await exited).code).toBe(137); // as the command ended: SIGKILL, as GNU timeout says
    expect(alive(pid)).toBe(false);
  });

  it('a second SIGTERM kills the command at once', async () => {
    const { child, exited, pid } = await startStubborn('60');
    const started = performance.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect((await exited).code).toBe(137); // as the command ended: SIGKILL
    expect(performance.now() - started).toBeLessThan(15_000); // 30 s or more if wrong
    expect(alive(pid)).toBe(false);
  });

  it('signals the whole process group: no grandchild is left running', async () => {
    const pidFile = join(dir, 'pid');
    const { child, exited } = start([
      '--',
      'sh',
      '-c',
      `sleep 31 & echo $! > ${pidFile}; wait; echo`,
    ]);
    const grandchild = await waitFor(pidFile);
    expect(alive(grandchild)).toBe(true);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(143);
    // The group's SIGTERM reached sleep too (give the kernel a moment to reap it).
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });

  it('a group member that ignores SIGTERM gets the grace, then SIGKILL, after its leader exited', async () => {
    const pidFile = join(dir, 'pid');
    // The leader (sh) exits on SIGTERM; the subshell running sleep ignores it.
    const { child, exited } = start([
      '--kill-after',
      '1',
      '--',
      'sh',
      '-c',
      `(trap '' TERM; exec sleep 41) & echo $! > ${pidFile}; wait`,
    ]);
    const member = await waitFor(pidFile);
    const started = performance.now();
    child.kill('SIGTERM');
    expect((await exited).code).toBe(143);
    // The tool waited for the grace (1 s) and sent SIGKILL: nothing of the group is left. (Left
    // running, sleep would hold the tool's pipes for its 41 s.)
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(performance.now() - started).toBeLessThan(20_000);
    for (let i = 0; i < 50 && alive(member); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(member)).toBe(false);
  });

  it('a group that empties during its grace ends the wait early', async () => {
    const pidFile = join(dir, 'pid');
    const { child, exited } = start([
      '--kill-after',
      '30',
      '--',
      'sh',
      '-c',
      `sleep 40 & echo $! > ${pidFile}; wait`,
    ]);
    await waitFor(pidFile);
    const started = performance.now();
    child.kill('SIGTERM');
    expect((await exited).code).toBe(143);
    expect(performance.now() - started).toBeLessThan(10_000); // 30 s if wrong
  });

  it.each(['SIGHUP', 'SIGQUIT', 'SIGUSR1'] as const)(
    '%s reaches the command as itself; the tool exits as the command did and leaves nothing',
    async (name) => {
      const pidFile = join(dir, 'pid');
      const said = join(dir, 'said');
      const { child, exited } = start([
        '--',
        'sh',
        '-c',
        `trap 'echo got > ${said}; exit 3' ${name.slice(3)}; echo $$ > ${pidFile}; while :; do sleep 0.05; done`,
      ]);
      const pid = await waitFor(pidFile);
      child.kill(name);
      expect((await exited).code).toBe(3); // the command's own status, as GNU timeout gives it
      expect(await readFile(said, 'utf8')).toBe('got\n');
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
      expect(alive(pid)).toBe(false);
    },
  );

  it.each([
    ['SIGHUP', 129],
    ['SIGUSR2', 140],
  ] as const)(
    '%s kills a command that does not handle it: the tool exits %i',
    async (name, code) => {
      const pidFile = join(dir, 'pid');
      const { child, exited } = start(['--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`]);
      await waitFor(pidFile);
      child.kill(name);
      expect((await exited).code).toBe(code);
    },
  );

  it('--until into a pipe closed early (`| head -1`) stops the command as SIGPIPE would: 141', async () => {
    const { child, exited } = start([
      ...['--until', 'never', '--', 'sh', '-c', 'while :; do echo line; sleep 0.01; done'],
    ]);
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    child.stdout?.destroy();
    const { code, stderr } = await exited;
    expect(code).toBe(141);
    expect(stderr).toBe(''); // no EPIPE stack trace
  });

  it('--until holds the command while its reader is slow: the tool’s memory stays bounded', async () => {
    // 200 MB of output that nobody reads for a while: the tool reads no faster than its reader.
    const writer = `const block = Buffer.alloc(1 << 20, 120); let n = 200;
      const more = () => { while (n > 0) { n--; if (!process.stdout.write(block)) return process.stdout.once('drain', more); } process.stdout.write('\\nthe end\\n'); };
      more();`;
    const { child, exited } = start([
      ...['--until', '^the end$', '--max-tries', '1', '--', process.execPath, '-e', writer],
    ]);
    const stdout = child.stdout as NodeJS.ReadableStream;
    stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const rss = Number(
      /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1],
    );
    let bytes = 0;
    stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stdout.resume();
    expect((await exited).code).toBe(0);
    expect(bytes).toBe(200 * 2 ** 20 + '\nthe end\n'.length);
    // Node's own ~50 MB and a few buffers; unread output held in the tool was 250 MB and more.
    console.log(`the tool under a slow reader: ${(rss / 1024).toFixed(1)} MiB resident`);
    expect(rss / 1024).toBeLessThan(120);
  }, 60_000);

  it('--timeout past 2^31 - 1 ms (30 days) is honoured, not fired at once', async () => {
    const { exited } = start(['--timeout', '2592000', '--', 'sh', '-c', 'sleep 0.3; exit 0']);
    expect((await exited).code).toBe(0);
  });

  it('--max-time with --kill-at-max-time ends the run in flight: exit 124', async () => {
    const started = performance.now();
    const { exited } = start(['--max-time', '0.3', '--kill-at-max-time', '--', 'sleep', '30']);
    const { code, stderr } = await exited;
    expect(code).toBe(124);
    expect(stderr).toMatch(/--max-time ran out \(exit 124\)/);
    expect(performance.now() - started).toBeLessThan(15_000); // 30 s or more if wrong
  });

  it('--until / --while match as the output streams by, in bounded memory', async () => {
    // 100 MB of output and the match at its very end, through a tool with a 32 MB heap: holding
    // the output (as it once did) runs out of memory.
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=32',
        BIN,
        '--until',
        '^the end$',
        '--max-tries',
        '1',
        '--',
        process.execPath,
        '-e',
        `const line = 'x'.repeat(1023) + '\\n'; const block = line.repeat(1024); let n = 100;
         const more = () => { while (n > 0) { n--; if (!process.stdout.write(block)) return process.stdout.once('drain', more); } process.stdout.write('the end\\n'); };
         more();`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let bytes = 0;
    let tail = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      tail = (tail + chunk.toString('latin1')).slice(-20);
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    expect(bytes).toBe(100 * 1024 * 1024 + 'the end\n'.length);
    expect(tail.endsWith('the end\n')).toBe(true);
  }, 60_000);

  it('is an executable with a node shebang', async () => {
    const head = (await readFile(BIN, 'utf8')).split('\n')[0];
    expect(head).toBe('#!/usr/bin/env node');
    const { stdout } = await promisify(execFile)(BIN, ['--version']);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
