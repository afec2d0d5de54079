/**
 * Writes small but real bundles for error tests: the default weights truncated after an
 * early tap, so the ONNX file is tens of KB to a few MB instead of 45 MB.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBackboneOnnx } from '../../src/model/backbone_graph.js';
import { defaultFoldedConvs } from '../../src/model/default_weights.js';
import { DEFAULT_HYPERPARAMETERS, type ModelConfig } from '../../src/model/config.js';
import { writeSafetensors, type NamedTensor } from '../../src/model/safetensors.js';
import type { FoldedConv } from '../../src/model/batchnorm.js';

let convs: Map<string, FoldedConv> | undefined;

export function smallConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  const h = DEFAULT_HYPERPARAMETERS;
  return {
    schema: 'lwfm-spm/model',
    schemaVersion: 1,
    arch: 'resnet18',
    taps: [1],
    channels: [64],
    featureSize: 3,
    pooling: 'average',
    resize: h.resize,
    crop: h.crop,
    mean: [...h.mean],
    std: [...h.std],
    temperatureAttn: 5,
    temperature: 0.2,
    matcherWeight: 0.25,
    topK: 1,
    provenance: { source: 'test', converterVersion: 'test', trained: false },
    ...over,
  };
}

/** Writes model.json (as given, may be invalid), backbone.onnx for `onnx` options, optional matcher. */
export function writeSmallBundle(
  dir: string,
  opts: { config?: unknown; onnx?: { taps: number[]; featureSize: number }; matcher?: Map<string, NamedTensor> } = {},
): string {
  mkdirSync(dir, { recursive: true });
  convs ??= defaultFoldedConvs();
  const onnx = opts.onnx ?? { taps: [1], featureSize: 3 };
  writeFileSync(
    join(dir, 'backbone.onnx'),
    buildBackboneOnnx({ taps: onnx.taps, featureSize: onnx.featureSize, pooling: 'average', crop: 84, convs, producerVersion: 'test' }),
  );
  writeFileSync(join(dir, 'model.json'), JSON.stringify(opts.config ?? smallConfig()));
  if (opts.matcher) writeFileSync(join(dir, 'matcher.safetensors'), writeSafetensors(opts.matcher));
  return dir;
}

/** Matcher tensors of the right shapes for taps with `channels`. */
export function matcherTensors(channels: number[]): Map<string, NamedTensor> {
  const m = new Map<string, NamedTensor>();
  channels.forEach((c, t) => {
    m.set(`matcher.${t}.w1`, { shape: [c / 2, c], data: new Float32Array((c / 2) * c).fill(0.01) });
    m.set(`matcher.${t}.w2`, { shape: [c, c / 2], data: new Float32Array((c / 2) * c).fill(-0.01) });
  });
  return m;
}
