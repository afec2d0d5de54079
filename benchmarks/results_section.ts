// Replaces (or appends) one "## title" section of benchmarks/RESULTS.md, for benchmarks that
// run on their own (soak, image bombs) rather than through benchmarks/run.ts, which keeps
// such sections when it rewrites the file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RESULTS = join(import.meta.dirname, 'RESULTS.md');

/** Writes `body` as the section titled `title`, leaving every other section as it is. */
export function upsertResultsSection(title: string, body: string): void {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n';
  const parts = text.split(/^(?=## )/m);
  const section = `## ${title}\n\n${body.trimEnd()}\n\n`;
  const at = parts.findIndex((p) => p.startsWith(`## ${title}\n`));
  if (at >= 0) parts[at] = section;
  else parts.push((parts.at(-1)!.endsWith('\n\n') ? '' : '\n') + section);
  writeFileSync(RESULTS, parts.join('').trimEnd() + '\n');
}
