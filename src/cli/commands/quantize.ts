/** `lwfm-spm quantize`: an int8 copy of a bundle (src/model/quantize/quantize_bundle.ts). */
import { UsageError, optionalInt, parseCommandArgs, stringOption } from '../args.js';
import { quantizeSpec } from '../specs.js';

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(quantizeSpec, argv);
  if (args.help) {
    process.stdout.write(`${quantizeSpec.help}\n`);
    return 0;
  }
  const [out, ...extra] = args.positionals;
  if (out === undefined) throw new UsageError('quantize: OUTDIR is required');
  if (extra.length > 0) throw new UsageError(`quantize: unexpected argument '${extra[0]}'`);
  const pctText = stringOption(args, 'percentile');
  const percentile = pctText === undefined ? undefined : Number(pctText);
  if (percentile !== undefined && !(percentile > 50 && percentile <= 100))
    throw new UsageError(`--percentile must be a number in (50, 100], got '${pctText}'`);
  const { quantizeBundle } = await import('../../model/quantize/quantize_bundle.js');
  let from = stringOption(args, 'model');
  if (from === undefined) {
    const { defaultBundle } = await import('../../model/default_bundle.js');
    from = (await defaultBundle()).dir;
  }
  const calibrate = stringOption(args, 'calibrate');
  const threads = optionalInt(args, 'threads');
  const maxImages = optionalInt(args, 'max-images', 1, 100_000);
  process.stderr.write(`Quantizing ${from} into ${out}...\n`);
  const bundle = await quantizeBundle(from, out, {
    ...(calibrate !== undefined ? { calibrate } : {}),
    ...(percentile !== undefined ? { percentile } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(maxImages !== undefined ? { maxImages } : {}),
    onWarning: (m) => process.stderr.write(`lwfm-spm: warning: ${m}\n`),
  });
  const q = bundle.config.quantization!;
  if (args.values.json === true)
    process.stdout.write(`${JSON.stringify({ dir: bundle.dir, precision: 'int8', quantization: q }, null, 2)}\n`);
  else {
    process.stdout.write(
      `int8 bundle written to ${bundle.dir}\n  calibration: ${q.method} ${q.percentile} on ${q.calibrationImages} images (${q.calibrationSource}, sha256 ${q.calibrationSha256.slice(0, 16)}...)\n`,
    );
  }
  return 0;
}
