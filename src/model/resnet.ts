/**
 * The ResNet layouts of docs/computation.md §2 (ResNet-18) and its extension to ResNet-34/50 in
 * torchvision's names: which convolutions exist, their shapes, the channels of each tap and
 * the spatial size of each tap's map. Tap 0 = after the stem's maxpool, tap t = after
 * residual block t (forward order over layer1..layer4).
 */

/**
 * Backbones lwfm-spm builds.
 * @example const arch: ResNetArch = 'resnet34';
 */
export type ResNetArch = 'resnet18' | 'resnet34' | 'resnet50';
export const RESNET_ARCHS: readonly ResNetArch[] = ['resnet18', 'resnet34', 'resnet50'];

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

/**
 * A residual block: the main path's convs in order (BasicBlock: conv1 3x3, conv2 3x3;
 * Bottleneck v1.5: conv1 1x1, conv2 3x3 carrying the stride, conv3 1x1), each followed by BN
 * and a ReLU except the last, whose output is added to the shortcut (identity or a 1x1
 * strided downsample) before the block's ReLU. Tap id = index + 1.
 */
export interface BlockSpec {
  prefix: string;
  /** Spatial stride of the block (1 or 2). */
  stride: number;
  conv1: ConvSpec;
  conv2: ConvSpec;
  /** Bottlenecks only. */
  conv3?: ConvSpec;
  downsample?: ConvSpec;
}

/** A whole backbone up to layer4 (the classifier `fc` is never used). */
export interface ResNetLayout {
  arch: ResNetArch;
  stem: ConvSpec;
  blocks: readonly BlockSpec[];
  /** Channels of tap 0..blocks.length. */
  tapChannels: readonly number[];
  maxTap: number;
  /** Every conv in forward order (stem, then per block its main path and downsample). */
  convs: readonly ConvSpec[];
}

function conv(name: string, bn: string, out: number, inCh: number, kernel: number, stride: number): ConvSpec {
  return { name, bn, out, in: inCh, kernel, stride, pad: (kernel - 1) / 2 };
}

const DEPTHS: Record<ResNetArch, { blocks: readonly number[]; bottleneck: boolean }> = {
  resnet18: { blocks: [2, 2, 2, 2], bottleneck: false },
  resnet34: { blocks: [3, 4, 6, 3], bottleneck: false },
  resnet50: { blocks: [3, 4, 6, 3], bottleneck: true },
};

function buildLayout(arch: ResNetArch): ResNetLayout {
  const { blocks: depths, bottleneck } = DEPTHS[arch];
  const expansion = bottleneck ? 4 : 1;
  const stem = conv('conv1', 'bn1', 64, 3, 7, 2);
  const blocks: BlockSpec[] = [];
  const widths = [64, 128, 256, 512];
  let inCh = 64;
  widths.forEach((w, s) => {
    for (let b = 0; b < depths[s]!; b++) {
      const p = `layer${s + 1}.${b}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const out = w * expansion;
      const block: BlockSpec = bottleneck
        ? {
            prefix: p,
            stride,
            conv1: conv(`${p}.conv1`, `${p}.bn1`, w, inCh, 1, 1),
            conv2: conv(`${p}.conv2`, `${p}.bn2`, w, w, 3, stride),
            conv3: conv(`${p}.conv3`, `${p}.bn3`, out, w, 1, 1),
          }
        : {
            prefix: p,
            stride,
            conv1: conv(`${p}.conv1`, `${p}.bn1`, w, inCh, 3, stride),
            conv2: conv(`${p}.conv2`, `${p}.bn2`, w, w, 3, 1),
          };
      if (stride !== 1 || inCh !== out) block.downsample = conv(`${p}.downsample.0`, `${p}.downsample.1`, out, inCh, 1, stride);
      blocks.push(block);
      inCh = out;
    }
  });
  return {
    arch,
    stem,
    blocks,
    tapChannels: [64, ...blocks.map((b) => (b.conv3 ?? b.conv2).out)],
    maxTap: blocks.length,
    convs: [stem, ...blocks.flatMap(blockConvs)],
  };
}

/** The convs of one block in forward order (main path, then downsample). */
export function blockConvs(b: BlockSpec): ConvSpec[] {
  return [b.conv1, b.conv2, ...(b.conv3 ? [b.conv3] : []), ...(b.downsample ? [b.downsample] : [])];
}

const layouts = new Map<ResNetArch, ResNetLayout>();

/**
 * The layout of one architecture (built once).
 * @example resnetLayout('resnet50').tapChannels[16] // 2048
 */
export function resnetLayout(arch: ResNetArch): ResNetLayout {
  let l = layouts.get(arch);
  if (!l) {
    l = buildLayout(arch);
    layouts.set(arch, l);
  }
  return l;
}

const R18 = resnetLayout('resnet18');
/** ResNet-18 (the default model's backbone): channels of tap 0 and taps 1..8. */
export const TAP_CHANNELS: readonly number[] = R18.tapChannels;
export const MAX_TAP = R18.maxTap;
export const STEM: ConvSpec = R18.stem;
/** ResNet-18's eight BasicBlocks in forward order. */
export const BLOCKS: readonly BlockSpec[] = R18.blocks;
/** ResNet-18's convs in forward order (stem, then per block conv1, conv2, downsample). */
export const ALL_CONVS: readonly ConvSpec[] = R18.convs;

function convOut(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * Spatial size (maps are square) of every tap for an S x S input. A strided block shrinks
 * the map as a 3x3/pad 1 conv does (its 1x1/pad 0 downsample gives the same size).
 * @example tapSizes(84) // [21, 21, 21, 11, 11, 6, 6, 3, 3]
 */
export function tapSizes(crop: number, arch: ResNetArch = 'resnet18'): number[] {
  let h = convOut(crop, 7, 2, 3);
  h = convOut(h, 3, 2, 1); // maxpool
  const sizes = [h];
  for (const b of resnetLayout(arch).blocks) {
    h = convOut(h, 3, b.stride, 1);
    sizes.push(h);
  }
  return sizes;
}

/**
 * Channels of the listed taps, in order.
 * @example channelsOf([15, 16], 'resnet50') // [2048, 2048]
 */
export function channelsOf(taps: readonly number[], arch: ResNetArch = 'resnet18'): number[] {
  const c = resnetLayout(arch).tapChannels;
  return taps.map((t) => c[t]!);
}

/** The last two blocks: the default taps of every architecture (ResNet-18: [7, 8]). */
export function defaultTaps(arch: ResNetArch): number[] {
  const m = resnetLayout(arch).maxTap;
  return [m - 1, m];
}
