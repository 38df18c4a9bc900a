// The documents' promises, checked: the README stays a front door (at most 35,000 bytes), its table
// of contents lists exactly its `## ` headings in order, and every relative link in the README,
// CONTRIBUTING.md and docs/*.md points at a file that exists and, with a #fragment, at a heading of
// that file. Run by `npm run lint:docs`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const problems = [];
const README_LIMIT = 35_000;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a Markdown file's headings, outside code blocks; repeats get -1, -2 … */
function anchors(text) {
  const seen = new Map();
  const result = new Set();
  for (const heading of headings(text, /^#{1,6} (.+)$/)) {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

function headings(text, pattern) {
  const found = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : pattern.exec(line);
    if (match?.[1] !== undefined) found.push(match[1]);
  }
  return found;
}

const documents = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

for (const document of documents) {
  const text = readFileSync(join(root, document), 'utf8');
  const prose = text.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target)) continue; // an absolute URL
    const [path, fragment] = target.split('#');
    const file = path === '' ? join(root, document) : join(root, dirname(document), path);
    if (!existsSync(file)) {
      problems.push(
        `${document}: the link ${target} points at ${relative(root, file)}, which does not exist`,
      );
      continue;
    }
    if (fragment !== undefined && file.endsWith('.md')) {
      if (!anchors(readFileSync(file, 'utf8')).has(fragment))
        problems.push(
          `${document}: the link ${target} names no heading of ${relative(root, file)}`,
        );
    }
  }
}

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const size = Buffer.byteLength(readme);
if (size > README_LIMIT) problems.push(`README.md is ${size} bytes, more than ${README_LIMIT}`);
const sections = headings(readme, /^## (.+)$/).filter((heading) => heading !== 'Contents');
const contents = /^## Contents\n\n((?:- .*\n)+)/m.exec(readme);
if (contents?.[1] === undefined) problems.push('README.md has no "## Contents" list');
else {
  const listed = [...contents[1].matchAll(/^- \[(.+)\]\(#(.+)\)$/gm)];
  const want = sections.map((heading) => `${heading} → #${slug(heading)}`);
  const have = listed.map(([, title, anchor]) => `${title} → #${anchor}`);
  if (want.join('\n') !== have.join('\n'))
    problems.push(
      `README.md's contents do not match its headings:\n  headings: ${want.join(' | ')}\n  contents: ${have.join(' | ')}`,
    );
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(
  `docs: ${documents.length} documents, links and the README's contents checked (${size} bytes)`,
);
