/**
 * `--precision int8 --calibrate DIR` for bundle-building commands whose own options are
 * parsed elsewhere (`lwfm-spm convert` passes the rest to the converter): takes those flags
 * out of the argument list, and turns a freshly written fp32 bundle into an int8 one in place.
 */
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { quantizeBundle } from './quantize_bundle.js';

/** The precision flags found in an argument list, and the arguments without them. */
export interface PrecisionArgs {
  precision: 'fp32' | 'int8';
  calibrate: string | undefined;
  rest: string[];
}

/**
 * Removes `--precision P` and `--calibrate DIR` (also `--flag=value`) from `argv`. Throws
 * RangeError for a precision other than fp32/int8, a missing value, or --calibrate without int8.
 * @example splitPrecisionArgs(['ckpt.pth', 'out', '--precision', 'int8']) // { precision: 'int8', calibrate: undefined, rest: ['ckpt.pth', 'out'] }
 */
export function splitPrecisionArgs(argv: readonly string[]): PrecisionArgs {
  const rest: string[] = [];
  const found: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(precision|calibrate)(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new RangeError(`Expected a value after --${m[1]} but received nothing`);
    found[m[1]!] = value;
  }
  const precision = found.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'int8') throw new RangeError(`Expected fp32 or int8 for --precision but received ${precision}`);
  if (found.calibrate !== undefined && precision !== 'int8')
    throw new RangeError('Expected --precision int8 with --calibrate (calibration is for int8 bundles)');
  return { precision, calibrate: found.calibrate, rest };
}

/**
 * Replaces the fp32 bundle in `dir` by its int8 version (calibrated on `calibrate`, else
 * the bundled samples with a warning on stderr).
 * @example await quantizeInPlace('./my-model', './domain-images');
 */
export async function quantizeInPlace(dir: string, calibrate: string | undefined): Promise<void> {
  const abs = resolve(dir);
  const tmp = `${abs}.int8-${process.pid}`;
  const old = `${abs}.fp32-${process.pid}`;
  try {
    await quantizeBundle(abs, tmp, {
      ...(calibrate !== undefined ? { calibrate } : {}),
      onWarning: (m) => process.stderr.write(`lwfm-spm: warning: ${m}\n`),
    });
    await rename(abs, old);
    await rename(tmp, abs);
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
