/**
 * The backbone ONNX graph of a model bundle (layout shared with tools/lwfm_onnx.py):
 * input `images` [N, 3, S, S], a ResNet (18, 34 or 50) with BatchNorm folded into the convs, each
 * tap pooled to F x F inside the graph, output `features` [N, C, F, F] = the pooled taps
 * concatenated along channels in tap order. Blocks after the last tap are left out.
 */
import { DataType, encodeModel, type OnnxGraph, type OnnxInitializer, type OnnxNode } from './onnx/builder.js';
import type { FoldedConv } from './batchnorm.js';
import { resnetLayout, tapSizes, type ConvSpec, type ResNetArch } from './resnet.js';
import { poolingMatrix, poolingPlan, type Pooling } from './pooling.js';

export interface BackboneGraphOptions {
  /** Default 'resnet18'. */
  arch?: ResNetArch;
  taps: readonly number[];
  featureSize: number;
  pooling: Pooling;
  crop: number;
  /** Folded convs by torchvision conv name ('conv1', 'layer1.0.conv1', 'layer2.0.downsample.0', ...). */
  convs: ReadonlyMap<string, FoldedConv>;
  producerVersion: string;
}

/**
 * Builds the ONNX bytes of the backbone.
 * @example
 * const bytes = buildBackboneOnnx({ taps: [7, 8], featureSize: 3, pooling: 'average', crop: 84, convs, producerVersion: '0.1.0' });
 */
export function buildBackboneOnnx(opts: BackboneGraphOptions): Uint8Array {
  return encodeModel(buildBackboneGraph(opts), { producer: 'lwfm-spm', version: opts.producerVersion });
}

/**
 * The backbone as an in-memory graph, before encoding: what the int8 QDQ transform
 * (src/model/quantize/) rewrites.
 * @example
 * const graph = buildBackboneGraph({ taps: [7, 8], featureSize: 3, pooling: 'average', crop: 84, convs, producerVersion: '0.1.0' });
 */
export function buildBackboneGraph(opts: BackboneGraphOptions): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const inits: OnnxInitializer[] = [];
  const layout = resnetLayout(opts.arch ?? 'resnet18');
  const sizes = tapSizes(opts.crop, layout.arch);
  const f = opts.featureSize;

  const convNode = (spec: ConvSpec, input: string, output: string): void => {
    const c = opts.convs.get(spec.name);
    if (!c) throw new Error(`missing weights for ${spec.name}`);
    if (c.weight.length !== spec.out * spec.in * spec.kernel * spec.kernel || c.bias.length !== spec.out) {
      throw new Error(`wrong weight size for ${spec.name}`);
    }
    inits.push({ name: `${spec.name}.weight`, dims: [spec.out, spec.in, spec.kernel, spec.kernel], float: c.weight });
    inits.push({ name: `${spec.name}.bias`, dims: [spec.out], float: c.bias });
    nodes.push({
      op: 'Conv',
      name: spec.name,
      inputs: [input, `${spec.name}.weight`, `${spec.name}.bias`],
      outputs: [output],
      attributes: {
        kernel_shape: { ints: [spec.kernel, spec.kernel] },
        strides: { ints: [spec.stride, spec.stride] },
        pads: { ints: [spec.pad, spec.pad, spec.pad, spec.pad] },
      },
    });
  };

  const tapOutputs: string[] = [];
  const lastTap = Math.max(...opts.taps);
  const tapName = (t: number): string => `tap${t}`;

  for (const t of opts.taps) {
    if (!Number.isInteger(t) || t < 0 || t > layout.maxTap)
      throw new RangeError(`tap ${t} is not in 0..${layout.maxTap} for ${layout.arch}`);
  }
  convNode(layout.stem, 'images', 'stem.conv');
  nodes.push({ op: 'Relu', inputs: ['stem.conv'], outputs: ['stem.relu'] });
  nodes.push({
    op: 'MaxPool',
    inputs: ['stem.relu'],
    outputs: [tapName(0)],
    attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } },
  });
  let x = tapName(0);
  for (let i = 0; i < lastTap; i++) {
    const b = layout.blocks[i]!;
    const p = b.prefix;
    convNode(b.conv1, x, `${p}.c1`);
    nodes.push({ op: 'Relu', inputs: [`${p}.c1`], outputs: [`${p}.r1`] });
    convNode(b.conv2, `${p}.r1`, `${p}.c2`);
    let main = `${p}.c2`;
    if (b.conv3) {
      nodes.push({ op: 'Relu', inputs: [`${p}.c2`], outputs: [`${p}.r2`] });
      convNode(b.conv3, `${p}.r2`, `${p}.c3`);
      main = `${p}.c3`;
    }
    let shortcut = x;
    if (b.downsample) {
      convNode(b.downsample, x, `${p}.ds`);
      shortcut = `${p}.ds`;
    }
    nodes.push({ op: 'Add', inputs: [main, shortcut], outputs: [`${p}.sum`] });
    nodes.push({ op: 'Relu', inputs: [`${p}.sum`], outputs: [tapName(i + 1)] });
    x = tapName(i + 1);
  }

  for (const t of opts.taps) {
    const h = sizes[t]!;
    const c = layout.tapChannels[t]!;
    const plan = poolingPlan(opts.pooling, h, f);
    const out = `pooled${t}`;
    if (plan.op === 'identity') {
      tapOutputs.push(tapName(t));
      continue;
    }
    if (plan.op === 'global') nodes.push({ op: 'GlobalAveragePool', inputs: [tapName(t)], outputs: [out] });
    else if (plan.op === 'averagePool') {
      nodes.push({
        op: 'AveragePool',
        inputs: [tapName(t)],
        outputs: [out],
        attributes: { kernel_shape: { ints: [plan.kernel, plan.kernel] }, strides: { ints: [plan.kernel, plan.kernel] } },
      });
    } else {
      inits.push({ name: `pool${t}.flat_shape`, dims: [3], int64: [0, c, h * h] });
      inits.push({ name: `pool${t}.matrix`, dims: [h * h, f * f], float: poolingMatrix(opts.pooling, h, f) });
      inits.push({ name: `pool${t}.out_shape`, dims: [4], int64: [0, c, f, f] });
      nodes.push({ op: 'Reshape', inputs: [tapName(t), `pool${t}.flat_shape`], outputs: [`pool${t}.flat`] });
      nodes.push({ op: 'MatMul', inputs: [`pool${t}.flat`, `pool${t}.matrix`], outputs: [`pool${t}.mm`] });
      nodes.push({ op: 'Reshape', inputs: [`pool${t}.mm`, `pool${t}.out_shape`], outputs: [out] });
    }
    tapOutputs.push(out);
  }
  const channels = opts.taps.reduce((s, t) => s + layout.tapChannels[t]!, 0);
  if (tapOutputs.length === 1) nodes.push({ op: 'Identity', inputs: tapOutputs, outputs: ['features'] });
  else nodes.push({ op: 'Concat', inputs: tapOutputs, outputs: ['features'], attributes: { axis: { int: 1 } } });

  return {
    name: 'lwfm_spm_backbone',
    nodes,
    initializers: inits,
    inputs: [{ name: 'images', elemType: DataType.FLOAT, dims: ['N', 3, opts.crop, opts.crop] }],
    outputs: [{ name: 'features', elemType: DataType.FLOAT, dims: ['N', channels, f, f] }],
  };
}
