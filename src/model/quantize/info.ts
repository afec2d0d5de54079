/**
 * The `precision` and `quantization` fields of model.json: what an int8 bundle records
 * about how it was made, and their validation (called from config.ts).
 */
import { ModelBundleError } from '../../errors.js';
import { describeValue } from '../../validate.js';

/**
 * How an int8 backbone was quantized (model.json `quantization`).
 * @example
 * const { config } = await loadBundle('./model-int8');
 * config.quantization?.calibrationImages; // 107
 */
export interface QuantizationInfo {
  /** Weight scheme: always 'int8-symmetric-per-channel'. */
  weights: 'int8-symmetric-per-channel';
  /** Activation scheme: always 'uint8-asymmetric-per-tensor'. */
  activations: 'uint8-asymmetric-per-tensor';
  /** Calibration method of the activation ranges. */
  method: 'percentile';
  /** The histogram percentile used on each side (e.g. 99.99). */
  percentile: number;
  /** Number of calibration images. */
  calibrationImages: number;
  /** SHA-256 (hex) over the SHA-256 of each calibration file's bytes, in path order. */
  calibrationSha256: string;
  /** Where the calibration images came from (a directory, or 'bundled samples'). */
  calibrationSource: string;
}

/**
 * Validates model.json's optional `precision` / `quantization`; returns the fields to keep.
 * @example const extra = validatePrecision(raw, '/models/x/model.json'); // {} or { precision: 'int8', quantization }
 */
export function validatePrecision(
  raw: Record<string, unknown>,
  file: string,
): { precision?: 'fp32' | 'int8'; quantization?: QuantizationInfo } {
  const fail = (field: string, what: string, value: unknown): never => {
    throw new ModelBundleError(file, `expected ${what} for ${field} but received ${describeValue(value)}`);
  };
  const p = raw.precision;
  if (p === undefined) return {};
  if (p !== 'fp32' && p !== 'int8') fail('precision', "'fp32' or 'int8'", p);
  if (p === 'fp32') return { precision: 'fp32' };
  const q = raw.quantization as Record<string, unknown> | undefined;
  if (q === null || typeof q !== 'object' || Array.isArray(q))
    return fail('quantization', "an object (required when precision is 'int8')", q);
  if (q.weights !== 'int8-symmetric-per-channel') fail('quantization.weights', "'int8-symmetric-per-channel'", q.weights);
  if (q.activations !== 'uint8-asymmetric-per-tensor') fail('quantization.activations', "'uint8-asymmetric-per-tensor'", q.activations);
  if (q.method !== 'percentile') fail('quantization.method', "'percentile'", q.method);
  const pct = q.percentile;
  if (typeof pct !== 'number' || !(pct > 50 && pct <= 100)) fail('quantization.percentile', 'a number in (50, 100]', pct);
  const n = q.calibrationImages;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) fail('quantization.calibrationImages', 'a positive integer', n);
  if (typeof q.calibrationSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(q.calibrationSha256))
    fail('quantization.calibrationSha256', '64 hex digits', q.calibrationSha256);
  if (typeof q.calibrationSource !== 'string') fail('quantization.calibrationSource', 'a string', q.calibrationSource);
  return {
    precision: 'int8',
    quantization: {
      weights: 'int8-symmetric-per-channel',
      activations: 'uint8-asymmetric-per-tensor',
      method: 'percentile',
      percentile: pct as number,
      calibrationImages: n as number,
      calibrationSha256: q.calibrationSha256 as string,
      calibrationSource: q.calibrationSource as string,
    },
  };
}
