// Runs before `npm test`: the loader test needs prebuilds/ to prove that node-gyp-build
// finds the packed binary when no local build exists. Builds it only when missing.
import { existsSync, readdirSync } from 'node:fs';
import { execSync } from 'node:child_process';

const dir = `prebuilds/${process.platform}-${process.arch}`;
const has = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.node'));
if (!has) {
  console.log(`[pretest] ${dir} has no prebuild yet: running npm run prebuild`);
  execSync('npm run prebuild', { stdio: 'inherit' });
}
