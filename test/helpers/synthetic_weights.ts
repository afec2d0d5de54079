/**
 * ResNet weights of the right shapes with small seeded values, in torchvision/timm key
 * naming, as safetensors bytes: for download and error tests and benchmarks, which need a
 * valid file but not PyTorch (the numbers mean nothing; BatchNorm variances are 1).
 */
import { resnetLayout, type ResNetArch } from '../../src/model/resnet.js';
import { writeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';

export function syntheticWeights(arch: ResNetArch = 'resnet18', drop?: string): Uint8Array {
  const m = new Map<string, NamedTensor>();
  let s = 1;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
  for (const c of resnetLayout(arch).convs) {
    m.set(`${c.name}.weight`, {
      shape: [c.out, c.in, c.kernel, c.kernel],
      data: Float32Array.from({ length: c.out * c.in * c.kernel * c.kernel }, rand),
    });
    for (const p of ['weight', 'bias', 'running_mean'])
      m.set(`${c.bn}.${p}`, { shape: [c.out], data: Float32Array.from({ length: c.out }, rand) });
    m.set(`${c.bn}.running_var`, { shape: [c.out], data: new Float32Array(c.out).fill(1) });
  }
  if (drop) m.delete(drop);
  return writeSafetensors(m);
}
