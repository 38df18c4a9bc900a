// Writes every ```ts block of the README, CONTRIBUTING.md and docs/*.md as a module of its own into
// the folder given, for .ci/consumer-types to type-check against the packed package: blocks with
// `= require(` into
// `cjs/`, the others into `esm/`. Each block gets `import * as backoff from 'backoff-ts'` unless it
// imports it itself; the free names the blocks use (a user's own functions) are declared in
// readme-globals.d.ts.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [, , out] = process.argv;
if (!out) throw new Error('usage: node readme-blocks.mjs <folder>');
const root = new URL('../../../', import.meta.url);
const documents = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(new URL('docs/', root))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const files = { esm: [], cjs: [] };
for (const document of documents) {
  const text = readFileSync(new URL(document, root), 'utf8');
  const blocks = [...text.matchAll(/^```ts\n([\s\S]*?)^```/gm)];
  if (document === 'README.md' && blocks.length === 0) throw new Error('no ts block in README.md');
  for (const [index, match] of blocks.entries()) {
    const code = match[1];
    const line = text.slice(0, match.index).split('\n').length;
    const kind = code.includes('= require(') ? 'cjs' : 'esm';
    const imports = /^import\b.*['"]backoff-ts['"]/m.test(code) || kind === 'cjs';
    const stem = document.replace(/\.md$/, '').replace(/\W/g, '-').toLowerCase();
    const name = `${stem}-${String(index + 1).padStart(2, '0')}-line-${line}.ts`;
    const prelude = imports ? '' : "import * as backoff from 'backoff-ts';\n";
    mkdirSync(join(out, kind), { recursive: true });
    writeFileSync(join(out, kind, name), `${prelude}${code}export {};\n`);
    files[kind].push(name);
  }
}
for (const kind of ['esm', 'cjs']) {
  mkdirSync(join(out, kind), { recursive: true });
  writeFileSync(join(out, kind, 'files.json'), JSON.stringify(files[kind]));
}
console.log(`documents: ${files.esm.length} ESM and ${files.cjs.length} CommonJS blocks`);
