// Checks (default) or applies (--fix) clang-format on the C++/CUDA sources git tracks.
// One list of files for `npm run lint` and `npm run format`, so neither forgets a folder.
import { execFileSync, spawnSync } from 'node:child_process';

const fix = process.argv.includes('--fix');
const files = execFileSync('git', ['ls-files', '*.cc', '*.h', '*.cu', '*.cuh'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !f.startsWith('test/fixtures/'));
const probe = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error('clang-format not found: install it (Debian: apt-get install clang-format) to lint C++/CUDA sources');
  process.exit(1);
}
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const run = spawnSync('clang-format', args, { stdio: 'inherit' });
if (run.status === 0) console.log(`clang-format: ${files.length} files ${fix ? 'formatted' : 'clean'}`);
process.exit(run.status ?? 1);
