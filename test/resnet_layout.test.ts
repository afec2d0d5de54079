/**
 * ResNet-18/34/50 layouts (docs/computation.md §2 and the README's extension): tap channels,
 * conv shapes in torchvision's names, tap sizes, and graphs whose signature model.json checks.
 */
import { describe, expect, it } from 'vitest';
import { channelsOf, defaultTaps, resnetLayout, tapSizes } from '../src/model/resnet.js';
import { buildBackboneGraph } from '../src/model/backbone_graph.js';
import { encodeModel } from '../src/model/onnx/builder.js';
import { readOnnxSignature } from '../src/model/onnx/inspect.js';
import { detectArch, foldedConvsFromStateDict, isBackboneKey } from '../src/model/state_dict.js';
import { validateModelConfig } from '../src/model/config.js';
import { smallConfig } from './helpers/small_bundle.js';
import type { NamedTensor } from '../src/model/safetensors.js';

/** A state dict of the right shapes (values irrelevant here). */
function stateDict(arch: 'resnet18' | 'resnet34' | 'resnet50'): Map<string, NamedTensor> {
  const m = new Map<string, NamedTensor>();
  for (const c of resnetLayout(arch).convs) {
    m.set(`${c.name}.weight`, {
      shape: [c.out, c.in, c.kernel, c.kernel],
      data: new Float32Array(c.out * c.in * c.kernel * c.kernel).fill(0.01),
    });
    for (const p of ['weight', 'bias', 'running_mean', 'running_var'])
      m.set(`${c.bn}.${p}`, { shape: [c.out], data: new Float32Array(c.out).fill(1) });
  }
  return m;
}

describe('ResNet layouts', () => {
  it('has the block counts and tap channels of the paper', () => {
    expect(resnetLayout('resnet18').tapChannels).toEqual([64, 64, 64, 128, 128, 256, 256, 512, 512]);
    expect(resnetLayout('resnet34').tapChannels).toEqual([
      64,
      ...Array(3).fill(64),
      ...Array(4).fill(128),
      ...Array(6).fill(256),
      ...Array(3).fill(512),
    ]);
    expect(resnetLayout('resnet50').tapChannels).toEqual([
      64,
      ...Array(3).fill(256),
      ...Array(4).fill(512),
      ...Array(6).fill(1024),
      ...Array(3).fill(2048),
    ]);
    expect(defaultTaps('resnet50')).toEqual([15, 16]);
    expect(channelsOf(defaultTaps('resnet34'), 'resnet34')).toEqual([512, 512]);
    // torchvision's ResNet-50 has 53 convs (stem + 16 x 3 + 4 downsamples), ResNet-34 36 + 3 downsamples
    expect(resnetLayout('resnet50').convs).toHaveLength(53);
    expect(resnetLayout('resnet34').convs).toHaveLength(36);
    // v1.5: the stride sits on the 3x3 conv
    const b = resnetLayout('resnet50').blocks[3]!;
    expect([b.conv1.stride, b.conv2.stride, b.conv3!.stride, b.downsample!.stride]).toEqual([1, 2, 1, 2]);
    expect(tapSizes(84, 'resnet50')).toEqual([21, 21, 21, 21, 11, 11, 11, 11, 6, 6, 6, 6, 6, 6, 3, 3, 3]);
  });

  it('detects the architecture from torchvision keys and reads only backbone keys', () => {
    for (const a of ['resnet18', 'resnet34', 'resnet50'] as const) expect(detectArch(stateDict(a).keys())).toBe(a);
    expect(detectArch(['fc.weight'])).toBeUndefined();
    expect(isBackboneKey('layer4.2.conv3.weight')).toBe(true);
    expect(isBackboneKey('layer1.0.bn1.num_batches_tracked')).toBe(false);
    expect(isBackboneKey('fc.weight')).toBe(false);
  });

  it('names the tensor that is missing, misshapen or non-finite', () => {
    const sd = stateDict('resnet50');
    sd.delete('layer2.0.downsample.1.running_var');
    expect(() => foldedConvsFromStateDict(sd, 'resnet50', 16)).toThrow(/lacks tensor layer2\.0\.downsample\.1\.running_var/);
    // not needed when the taps stop before layer2
    expect(foldedConvsFromStateDict(sd, 'resnet50', 3).size).toBe(1 + 3 * 3 + 1);
    const bad = stateDict('resnet34');
    bad.set('layer1.0.conv1.weight', { shape: [64, 64, 1, 1], data: new Float32Array(64 * 64) });
    expect(() => foldedConvsFromStateDict(bad, 'resnet34', 16)).toThrow(
      /layer1\.0\.conv1\.weight has shape \[64, 64, 1, 1\], resnet34 needs \[64, 64, 3, 3\]/,
    );
    const nan = stateDict('resnet18');
    nan.get('bn1.running_mean')!.data[3] = NaN;
    expect(() => foldedConvsFromStateDict(nan, 'resnet18', 8)).toThrow(/bn1\.running_mean has a non-finite value at index 3/);
  });

  it('builds ResNet-34/50 graphs whose signature has the taps channels', () => {
    for (const [arch, taps, c] of [
      ['resnet34', [15, 16], 1024],
      ['resnet50', [15, 16], 4096],
      ['resnet50', [0, 3, 7], 64 + 256 + 512],
    ] as const) {
      const convs = foldedConvsFromStateDict(stateDict(arch), arch, Math.max(...taps));
      const bytes = encodeModel(
        buildBackboneGraph({ arch, taps, featureSize: 3, pooling: 'average', crop: 84, convs, producerVersion: 't' }),
        { producer: 't', version: 't' },
      );
      expect(readOnnxSignature(bytes).outputs[0]!.dims).toEqual(['N', c, 3, 3]);
    }
  });

  it('model.json: arch defaults to resnet18, and taps/channels follow the arch', () => {
    const { arch: _omit, ...old } = smallConfig();
    expect(validateModelConfig(old, 'model.json').arch).toBe('resnet18');
    const r50 = validateModelConfig({ ...smallConfig(), arch: 'resnet50', taps: [15, 16], channels: [2048, 2048] }, 'model.json');
    expect(r50.channels).toEqual([2048, 2048]);
    expect(() => validateModelConfig({ ...smallConfig(), arch: 'resnet101' }, 'model.json')).toThrow(
      /'resnet18' or 'resnet34' or 'resnet50' for arch but received/,
    );
    expect(() => validateModelConfig({ ...smallConfig(), taps: [15, 16], channels: [512, 512] }, 'model.json')).toThrow(
      /resnet18 tap ids in 0\.\.8/,
    );
    expect(() => validateModelConfig({ ...smallConfig(), arch: 'resnet34', taps: [16], channels: [2048] }, 'model.json')).toThrow(
      /\[512\] \(resnet34 channels/,
    );
  });
});
