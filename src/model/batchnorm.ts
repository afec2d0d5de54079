/**
 * BatchNorm folding (inference mode): conv followed by BN equals one conv with
 * w' = w * g / sqrt(var + eps) per output channel and b' = beta - mean * g / sqrt(var + eps).
 */

export const BN_EPS = 1e-5;

export interface BatchNormParams {
  weight: Float32Array;
  bias: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** A convolution with BatchNorm folded in: weight [out, in, k, k] and bias [out]. */
export interface FoldedConv {
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * Folds BN into a bias-free conv; computed in float64, stored as float32.
 * @example const folded = foldBatchNorm(convWeight, 64, bn);
 */
export function foldBatchNorm(weight: Float32Array, outChannels: number, bn: BatchNormParams, eps = BN_EPS): FoldedConv {
  const per = weight.length / outChannels;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const scale = bn.weight[o]! / Math.sqrt(bn.runningVar[o]! + eps);
    for (let k = 0; k < per; k++) w[o * per + k] = weight[o * per + k]! * scale;
    b[o] = bn.bias[o]! - bn.runningMean[o]! * scale;
  }
  return { weight: w, bias: b };
}
