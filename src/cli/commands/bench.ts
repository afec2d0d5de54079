/** `lwfm-spm bench`: runs benchmarks/run.ts of a source checkout, passing arguments through. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LwfmError } from '../../errors.js';
import { packageRoot } from '../paths.js';
import { benchSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`${benchSpec.help}\n`);
    return 0;
  }
  const driver = join(packageRoot, 'benchmarks', 'run.ts');
  if (!existsSync(driver)) {
    throw new LwfmError(`Benchmark driver ${driver} not found: benchmarks ship with a source checkout (git clone), not with the npm package`, 'ERR_LWFM_NO_BENCHMARKS');
  }
  const child = spawn(process.execPath, ['--import', 'tsx', driver, ...argv], { cwd: packageRoot, stdio: 'inherit' });
  return new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
