#!/usr/bin/env node
// Repoints citations of the project's working specification ("SPEC §3.2", "SPEC.md §2",
// "SPEC.md section 5", "SPEC 3.3", bare "SPEC.md") at docs/computation.md, which keeps the same
// section numbers. Run once, at the end of the round, from the repository root:
//
//   node scripts/repoint-spec-citations.mjs          # dry run: lists what would change
//   node scripts/repoint-spec-citations.mjs --write  # rewrites the files
//
// Only files tracked by git are touched. In Markdown files a citation becomes a relative link
// to the section's heading anchor; elsewhere (code comments, Python, C++) it becomes plain text
// "docs/computation.md §N". Exits 1 when a citation names a section that docs/computation.md
// does not have, so a typo cannot turn into a dead link.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, posix, relative } from 'node:path';

const DOC = 'docs/computation.md';
const SELF = 'scripts/repoint-spec-citations.mjs';
const write = process.argv.includes('--write');

// GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

// Section number ("2", "3.1") -> anchor, read from the document's "## 2. ..." / "### 3.1 ..." headings.
const anchors = new Map();
for (const line of readFileSync(DOC, 'utf8').split('\n')) {
  const m = /^#{2,3}\s+((\d+)(?:\.(\d+))?\.?)\s/.exec(line);
  if (m) anchors.set(m[3] === undefined ? m[2] : `${m[2]}.${m[3]}`, slug(line.replace(/^#+/, '')));
}

const SECTION = String.raw`(\d+(?:\.\d+)?(?:\s*[-–]\s*\d+(?:\.\d+)?)?)`;
// Longest forms first; each yields the cited section text (or '' for the whole document).
const RULES = [
  { re: /\[SPEC(?:\.md)?\]\([^)]*\)/g, section: () => '' },
  { re: new RegExp(String.raw`(?:\.\.\/)*(?:shared\/)?SPEC\.md\s*(?:§|section\s+)\s*${SECTION}`, 'g'), section: (m) => m[1] },
  { re: new RegExp(String.raw`\bSPEC\s*§\s*${SECTION}`, 'g'), section: (m) => m[1] },
  { re: new RegExp(String.raw`(?:\.\.\/)*(?:shared\/)?SPEC(?:\.md)?\s+(\d+\.\d+)\b`, 'g'), section: (m) => m[1] },
  { re: /(?:\/work\/)?(?:\.\.\/)*(?:shared\/)?\bSPEC\.md\b/g, section: () => '' },
  { re: /\bSPEC\b/g, section: () => '' },
];

const problems = [];

function citation(file, section) {
  const text = section ? `${DOC} §${section.replace(/\s*[-–]\s*/, '-')}` : DOC;
  if (section) {
    for (const part of section.split(/\s*[-–]\s*/)) {
      if (!anchors.has(part)) problems.push(`${file}: cites §${part}, which ${DOC} does not have`);
    }
  }
  if (!file.endsWith('.md')) return text;
  const first = section.split(/\s*[-–]\s*/)[0];
  const target = posix.join(relative(dirname(file), '.').split('\\').join('/') || '.', DOC).replace(/^\.\//, '');
  const href = first && anchors.has(first) ? `${target}#${anchors.get(first)}` : target;
  return `[${text}](${href})`;
}

const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' })
  .split('\n')
  .filter(
    (f) => f && f !== DOC && f !== SELF && !f.endsWith('package-lock.json') && /\.(md|ts|mts|mjs|js|cc|h|cuh|cu|py|sh|txt|json)$/.test(f),
  );

let changedFiles = 0;
let changedCitations = 0;
for (const file of files) {
  const before = readFileSync(file, 'utf8');
  if (!/\bSPEC\b/.test(before)) continue;
  let after = before;
  for (const rule of RULES) {
    after = after.replace(rule.re, (...args) => {
      changedCitations++;
      return citation(file, rule.section(args));
    });
  }
  if (after === before) continue;
  changedFiles++;
  const lines = before.split('\n');
  const newLines = after.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== newLines[i]) console.log(`${file}:${i + 1}: ${newLines[i]?.trim()}`);
  }
  if (write) writeFileSync(file, after);
}
for (const p of problems) console.error(`repoint: ${p}`);
console.log(
  `${write ? 'rewrote' : 'would rewrite'} ${changedCitations} citations in ${changedFiles} files${write ? '' : ' (dry run; --write to apply)'}`,
);
process.exit(problems.length > 0 ? 1 : 0);
