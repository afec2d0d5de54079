/** `lwfm-spm convert`: delegates to the checkpoint converter (src/model/convert.ts). */
import { UsageError } from '../args.js';
import { convertSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  // The converter owns its options; only an explicit help request or no arguments stop here.
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    (argv.length === 0 ? process.stderr : process.stdout).write(`${convertSpec.help}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const { splitPrecisionArgs, quantizeInPlace } = await import('../../model/quantize/convert_int8.js');
  let p;
  try {
    p = splitPrecisionArgs(argv);
  } catch (e) {
    throw new UsageError(`convert: ${(e as Error).message}`);
  }
  const { runConverter } = await import('../../model/convert.js');
  const code = await runConverter(p.rest);
  if (code !== 0 || p.precision !== 'int8') return code;
  // The converter's positionals are CHECKPOINT OUTDIR; its only multi-value option is --taps.
  const outdir = converterPositionals(p.rest)[1];
  if (outdir === undefined) throw new UsageError('convert: OUTDIR is required');
  await quantizeInPlace(outdir, p.calibrate);
  process.stderr.write(`lwfm-spm: ${outdir} is now an int8 bundle\n`);
  return 0;
}

/** Positional arguments of the converter's command line (option values skipped). */
function converterPositionals(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--taps') while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) i++;
    else if (a === '--force') continue;
    else if (a.startsWith('--')) {
      if (!a.includes('=')) i++;
    } else out.push(a);
  }
  return out;
}
