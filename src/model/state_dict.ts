/**
 * Backbone weights in torchvision's key naming (which timm's `tv_in1k` ResNets and the
 * converter's output share: conv1.weight, bn1.{weight,bias,running_mean,running_var},
 * layer1.0.conv1.weight, layer2.0.downsample.0.weight / .downsample.1.*; fc.* unused):
 * which architecture a set of keys is, and the BatchNorm-folded convs the graph needs.
 */
import { foldBatchNorm, type FoldedConv } from './batchnorm.js';
import { blockConvs, resnetLayout, type ResNetArch } from './resnet.js';
import type { NamedTensor } from './safetensors.js';

/** Thrown for a missing, misshapen or non-finite tensor; the message names it. */
export class StateDictError extends Error {}

/**
 * The architecture a torchvision-named state dict holds: Bottlenecks (a conv3) mean
 * ResNet-50, a layer3.5 block without them ResNet-34, else ResNet-18. undefined when the
 * keys are not a torchvision ResNet at all.
 * @example detectArch(tensors.keys()) // 'resnet34'
 */
export function detectArch(keys: Iterable<string>): ResNetArch | undefined {
  const k = new Set(keys);
  if (!k.has('conv1.weight') || !k.has('layer1.0.conv1.weight')) return undefined;
  if (k.has('layer1.0.conv3.weight')) return 'resnet50';
  return k.has('layer3.5.conv1.weight') ? 'resnet34' : 'resnet18';
}

/** Whether a key is one the backbone reads (so readers can skip fc.* and num_batches_tracked). */
export function isBackboneKey(key: string): boolean {
  return /^(conv1\.weight|bn1\.(weight|bias|running_mean|running_var)|layer[1-4]\.\d+\.(conv[123]\.weight|bn[123]\.(weight|bias|running_mean|running_var)|downsample\.0\.weight|downsample\.1\.(weight|bias|running_mean|running_var)))$/.test(
    key,
  );
}

function pick(tensors: ReadonlyMap<string, NamedTensor>, key: string, shape: readonly number[], arch: ResNetArch): Float32Array {
  const t = tensors.get(key);
  if (!t) throw new StateDictError(`lacks tensor ${key} (shape [${shape.join(', ')}] in ${arch})`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new StateDictError(`tensor ${key} has shape [${t.shape.join(', ')}], ${arch} needs [${shape.join(', ')}]`);
  }
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i]!)) throw new StateDictError(`tensor ${key} has a non-finite value at index ${i}`);
  }
  return t.data;
}

/**
 * Folds every conv up to block `lastTap` with its BatchNorm (inference statistics, eps 1e-5).
 * Throws StateDictError naming the first tensor that is missing, misshapen or non-finite, or
 * a negative running variance.
 * @example const convs = foldedConvsFromStateDict(readSafetensors(bytes), 'resnet50', 16);
 */
export function foldedConvsFromStateDict(
  tensors: ReadonlyMap<string, NamedTensor>,
  arch: ResNetArch,
  lastTap: number,
): Map<string, FoldedConv> {
  const layout = resnetLayout(arch);
  const specs = [layout.stem, ...layout.blocks.slice(0, lastTap).flatMap(blockConvs)];
  const out = new Map<string, FoldedConv>();
  for (const s of specs) {
    const weight = pick(tensors, `${s.name}.weight`, [s.out, s.in, s.kernel, s.kernel], arch);
    const bn = {
      weight: pick(tensors, `${s.bn}.weight`, [s.out], arch),
      bias: pick(tensors, `${s.bn}.bias`, [s.out], arch),
      runningMean: pick(tensors, `${s.bn}.running_mean`, [s.out], arch),
      runningVar: pick(tensors, `${s.bn}.running_var`, [s.out], arch),
    };
    const negative = bn.runningVar.findIndex((v) => v < 0);
    if (negative >= 0) throw new StateDictError(`tensor ${s.bn}.running_var has a negative value at index ${negative}`);
    out.set(s.name, foldBatchNorm(weight, s.out, bn));
  }
  return out;
}
