/**
 * The ResNet-18 layout of SPEC.md §2 in torchvision's names: which convolutions exist,
 * their shapes, the channels of each tap and the spatial size of each tap's map.
 */

/** Channels of tap 0 (after the stem's maxpool) and taps 1..8 (after BasicBlock 1..8). */
export const TAP_CHANNELS: readonly number[] = [64, 64, 64, 128, 128, 256, 256, 512, 512];
export const MAX_TAP = 8;

/** One convolution (bias-free in the checkpoint; BatchNorm folded in later). */
export interface ConvSpec {
  /** torchvision name of the conv, e.g. 'layer2.0.downsample.0'. */
  name: string;
  /** torchvision name of the BatchNorm that follows it, e.g. 'layer2.0.downsample.1'. */
  bn: string;
  out: number;
  in: number;
  kernel: number;
  stride: number;
  pad: number;
}

/** A BasicBlock: conv1/bn1, conv2/bn2 and an optional 1x1 downsample. Tap id = index + 1. */
export interface BlockSpec {
  prefix: string;
  conv1: ConvSpec;
  conv2: ConvSpec;
  downsample?: ConvSpec;
}

function conv(name: string, bn: string, out: number, inCh: number, kernel: number, stride: number): ConvSpec {
  return { name, bn, out, in: inCh, kernel, stride, pad: (kernel - 1) / 2 };
}

export const STEM: ConvSpec = conv('conv1', 'bn1', 64, 3, 7, 2);

/** The eight BasicBlocks in forward order. */
export const BLOCKS: readonly BlockSpec[] = (() => {
  const blocks: BlockSpec[] = [];
  const widths = [64, 128, 256, 512];
  let inCh = 64;
  widths.forEach((w, s) => {
    for (let b = 0; b < 2; b++) {
      const prefix = `layer${s + 1}.${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const block: BlockSpec = {
        prefix,
        conv1: conv(`${prefix}.conv1`, `${prefix}.bn1`, w, inCh, 3, stride),
        conv2: conv(`${prefix}.conv2`, `${prefix}.bn2`, w, w, 3, 1),
      };
      if (stride !== 1 || inCh !== w) block.downsample = conv(`${prefix}.downsample.0`, `${prefix}.downsample.1`, w, inCh, 1, stride);
      blocks.push(block);
      inCh = w;
    }
  });
  return blocks;
})();

/** Every conv in forward order (stem, then per block conv1, conv2, downsample). */
export const ALL_CONVS: readonly ConvSpec[] = [STEM, ...BLOCKS.flatMap((b) => (b.downsample ? [b.conv1, b.conv2, b.downsample] : [b.conv1, b.conv2]))];

function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * Spatial size (maps are square) of every tap for an S x S input.
 * @example tapSizes(84) // [21, 21, 21, 11, 11, 6, 6, 3, 3]
 */
export function tapSizes(crop: number): number[] {
  let h = convOut(crop, 7, 2, 3);
  h = convOut(h, 3, 2, 1); // maxpool
  const sizes = [h];
  for (const b of BLOCKS) {
    h = convOut(h, 3, b.conv1.stride, 1);
    sizes.push(h);
  }
  return sizes;
}

/** Channels of the listed taps, in order. */
export function channelsOf(taps: readonly number[]): number[] {
  return taps.map((t) => TAP_CHANNELS[t]!);
}
