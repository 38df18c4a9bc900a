// The workerd smoke: bundles test/compat/smoke/workerd-worker.js with the built package, serves it with
// workerd on a free loopback port, asks it once, and checks that every check passed and that
// workerd printed nothing. Run: node test/compat/smoke/workerd.mjs path/to/workerd
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const workerd = process.argv[2];
if (!workerd) throw new Error('usage: node test/compat/smoke/workerd.mjs path/to/workerd');
const dir = mkdtempSync(join(tmpdir(), 'backoff-workerd-'));
try {
  await build({
    entryPoints: [fileURLToPath(new URL('./workerd-worker.js', import.meta.url))],
    bundle: true,
    format: 'esm',
    outfile: join(dir, 'worker.js'),
    logLevel: 'warning',
  });
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
);
`,
  );
  const server = spawn(workerd, ['serve', join(dir, 'config.capnp')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout.on('data', (chunk) => {
    output += chunk;
  });
  server.stderr.on('data', (chunk) => {
    output += chunk;
  });
  let results;
  for (let tries = 0; results === undefined; tries += 1) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      results = response.ok ? await response.json() : { status: response.status };
    } catch (error) {
      if (tries > 50) throw new Error(`workerd did not answer: ${error}\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  server.kill();
  for (const [name, outcome] of Object.entries(results))
    console.log(`workerd smoke: ${name}: ${outcome === true ? 'ok' : outcome}`);
  const failed =
    Object.values(results).some((outcome) => outcome !== true) || Object.keys(results).length < 5;
  if (output.trim() !== '') console.error(`workerd printed:\n${output}`);
  if (failed || output.trim() !== '') process.exit(1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
