// Regenerates docs/explain-example.png, the README's picture of an explanation: the bundled
// samples as a 5-way 5-shot support set (the first five images of five classes), one held-out
// star as the query, the embedded default model, `lwfm-spm explain` as a user would run it.
//   node scripts/make-explain-picture.mjs
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const samples = join(root, 'samples');
const work = mkdtempSync(join(tmpdir(), 'lwfm-explain-picture-'));
try {
  for (const cls of ['checker', 'circle', 'square', 'star', 'stripes']) {
    mkdirSync(join(work, cls));
    for (const f of readdirSync(join(samples, cls)).sort().slice(0, 5)) copyFileSync(join(samples, cls, f), join(work, cls, f));
  }
  const query = join(samples, 'star', readdirSync(join(samples, 'star')).sort()[6]);
  const out = join(root, 'docs', 'explain-example.png');
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src', 'cli', 'main.ts'),
      'explain',
      '--support',
      work,
      '--query',
      query,
      '--out',
      out,
      '--top',
      '2',
      '--width',
      '800',
    ],
    { stdio: 'inherit', cwd: root },
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
