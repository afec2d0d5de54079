/** `lwfm-spm convert`: delegates to the checkpoint converter (src/model/convert.ts). */
import { convertSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  // The converter owns its options; only an explicit help request or no arguments stop here.
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    (argv.length === 0 ? process.stderr : process.stdout).write(`${convertSpec.help}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const { runConverter } = await import('../../model/convert.js');
  return runConverter(argv);
}
