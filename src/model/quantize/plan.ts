/**
 * Where an fp32 backbone graph gets quantized. ONNX Runtime runs a convolution or a
 * residual sum in int8 when its float inputs come from DequantizeLinear and its output
 * goes straight into QuantizeLinear, so:
 *
 * - a ReLU right after a Conv or an Add is folded into that node's output quantization
 *   (zero point at the bottom of the 8-bit range: negatives saturate to exactly 0), as
 *   ONNX Runtime's own quantizer does; otherwise the ReLU would sit between the Conv and
 *   its QuantizeLinear and the Conv would stay fp32;
 * - the quantized tensors ("points") are the graph input, every Conv and Add output, and
 *   MaxPool outputs, which reuse their input's scale so the pool runs on 8-bit values.
 *
 * Everything else (the taps' pooling, reshapes, the concat) reads dequantized floats, so
 * the graph's outputs stay float32.
 */
import type { OnnxGraph, OnnxNode } from '../onnx/builder.js';

/** A tensor to quantize. */
export interface QuantPoint {
  /** Tensor name; the same in the fp32 graph, so calibration can fetch it there. */
  tensor: string;
  /** Non-negative by construction (a folded ReLU): its range starts at 0. */
  relu: boolean;
  /** Quantized with the scale of this other point (MaxPool output: its input). */
  tiedTo?: string;
}

/** The graph with ReLUs folded (fp32 semantics only once quantized) and its points. */
export interface QuantPlan {
  graph: OnnxGraph;
  points: QuantPoint[];
}

/** Thrown for graphs whose shape the quantizer does not support. */
export class QuantizeGraphError extends Error {}

/**
 * Folds ReLUs and lists the points to quantize; throws QuantizeGraphError when a Conv or
 * Add would read a tensor that is not quantized (a graph this quantizer does not know).
 * @example
 * const { graph, points } = planQuantization(readOnnxGraph(bytes));
 */
export function planQuantization(fp32: OnnxGraph): QuantPlan {
  const graphOutputs = new Set(fp32.outputs.map((o) => o.name));
  const consumers = new Map<string, OnnxNode[]>();
  for (const n of fp32.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const producer = new Map<string, OnnxNode>();
  for (const n of fp32.nodes) for (const o of n.outputs) producer.set(o, n);

  // Relu nodes folded away, and the producer output each one renames.
  const folded = new Set<OnnxNode>();
  const renamed = new Map<string, string>();
  for (const n of fp32.nodes) {
    if (n.op !== 'Relu') continue;
    const src = n.inputs[0]!;
    const p = producer.get(src);
    if (!p || (p.op !== 'Conv' && p.op !== 'Add')) continue;
    if ((consumers.get(src) ?? []).length !== 1 || graphOutputs.has(src)) continue;
    folded.add(n);
    renamed.set(src, n.outputs[0]!);
  }
  const nodes = fp32.nodes.filter((n) => !folded.has(n)).map((n) => ({ ...n, outputs: n.outputs.map((o) => renamed.get(o) ?? o) }));

  const reluOutputs = new Set(renamed.values());
  const points: QuantPoint[] = [];
  const known = new Set<string>();
  const add = (p: QuantPoint): void => {
    if (known.has(p.tensor)) return;
    known.add(p.tensor);
    points.push(p);
  };
  const input = fp32.inputs[0];
  if (input) add({ tensor: input.name, relu: false });
  const inits = new Set(fp32.initializers.map((i) => i.name));
  for (const n of nodes) {
    if (n.domain)
      throw new QuantizeGraphError(`node ${n.name ?? n.outputs[0]} is in domain ${n.domain}; only standard ONNX operators are quantized`);
    if (n.op === 'Conv' || n.op === 'Add') {
      const data = n.op === 'Conv' ? [n.inputs[0]!] : n.inputs;
      for (const d of data) {
        if (!known.has(d))
          throw new QuantizeGraphError(`${n.op} ${n.name ?? n.outputs[0]} reads ${d}, which is not a quantized activation`);
      }
      if (n.op === 'Conv' && !(inits.has(n.inputs[1]!) && (n.inputs[2] === undefined || inits.has(n.inputs[2])))) {
        throw new QuantizeGraphError(`Conv ${n.name ?? n.outputs[0]} has weights that are not initializers`);
      }
      add({ tensor: n.outputs[0]!, relu: reluOutputs.has(n.outputs[0]!) });
    } else if (n.op === 'MaxPool' && known.has(n.inputs[0]!)) {
      const from = points.find((p) => p.tensor === n.inputs[0])!;
      add({ tensor: n.outputs[0]!, relu: from.relu, tiedTo: from.tiedTo ?? from.tensor });
    }
  }
  return { graph: { ...fp32, nodes }, points };
}
