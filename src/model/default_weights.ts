/**
 * Weights of the untrained default model, a pure function of a seed (mirrored in
 * tools/reference/default_weights.py, which the fixture script uses to check the graph
 * against a PyTorch forward).
 *
 * - Conv k of ALL_CONVS (forward order) draws stream k: Kaiming-normal with fan_out
 *   (std = sqrt(2 / (out * kh * kw))), as torchvision and the authors initialise ResNets.
 * - BatchNorm: weight 1, bias 0, running mean 0, and running variance chosen analytically
 *   so that every BN output has about unit second moment:
 *   running_var[o] = m2_in * sum(w[o]^2), where m2_in is the tracked second moment of the
 *   conv's input: 1 for the normalised image, 1/2 after BN + ReLU (half of a unit
 *   Gaussian), unchanged by maxpool, and 1/2 * (1 + m2_shortcut) after a block's
 *   residual sum + ReLU. Activations then stay of order 1 through all eight blocks
 *   instead of growing with every residual sum.
 */
import { fillNormal, streamKey } from './rng.js';
import { ALL_CONVS, BLOCKS, STEM, type ConvSpec } from './resnet.js';
import { foldBatchNorm, type FoldedConv } from './batchnorm.js';

export const DEFAULT_SEED = 20241109;

/** Kaiming-normal (fan_out, ReLU gain) weights of one conv. */
export function defaultConvWeight(spec: ConvSpec, seed = DEFAULT_SEED): Float32Array {
  const stream = ALL_CONVS.indexOf(spec);
  const fanOut = spec.out * spec.kernel * spec.kernel;
  return fillNormal(new Float32Array(spec.out * spec.in * spec.kernel * spec.kernel), streamKey(seed, stream), Math.sqrt(2 / fanOut));
}

/** Running variances for a conv whose input has second moment m2In. */
export function analyticRunningVar(weight: Float32Array, outChannels: number, m2In: number): Float32Array {
  const per = weight.length / outChannels;
  const v = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let s = 0;
    for (let k = 0; k < per; k++) s += weight[o * per + k]! * weight[o * per + k]!;
    v[o] = m2In * s;
  }
  return v;
}

/**
 * All folded convs of the default model, by torchvision conv name.
 * @example const convs = defaultFoldedConvs(); convs.get('conv1')!.weight.length // 9408
 */
export function defaultFoldedConvs(seed = DEFAULT_SEED): Map<string, FoldedConv> {
  const out = new Map<string, FoldedConv>();
  const add = (spec: ConvSpec, m2In: number): void => {
    const w = defaultConvWeight(spec, seed);
    const n = spec.out;
    out.set(
      spec.name,
      foldBatchNorm(w, n, {
        weight: new Float32Array(n).fill(1),
        bias: new Float32Array(n),
        runningMean: new Float32Array(n),
        runningVar: analyticRunningVar(w, n, m2In),
      }),
    );
  };
  add(STEM, 1);
  let m2 = 0.5;
  for (const b of BLOCKS) {
    add(b.conv1, m2);
    add(b.conv2, 0.5);
    let m2Shortcut = m2;
    if (b.downsample) {
      add(b.downsample, m2);
      m2Shortcut = 1;
    }
    m2 = 0.5 * (1 + m2Shortcut);
  }
  return out;
}
