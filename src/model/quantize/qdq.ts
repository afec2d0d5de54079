/**
 * Rewrites a planned fp32 graph into a standard QDQ ONNX graph:
 *
 * - weights: symmetric int8 per output channel (scale = max |w| / 127 per channel,
 *   zero point 0), through a DequantizeLinear with axis 0;
 * - biases: int32 with scale = input scale x weight scale of the channel, zero point 0,
 *   the layout ONNX Runtime's QDQ Conv fusion requires to become one QLinearConv;
 * - activations: 8-bit with the calibrated range [lo, hi] of each point; a ReLU-folded
 *   point has lo = 0 and its zero point at the bottom of the range;
 * - one QuantizeLinear per point and one DequantizeLinear per consumer, so every
 *   Conv/Add sees its own DQ -> op -> Q group (a shared DQ would stop the fusion).
 */
import { DataType, type OnnxGraph, type OnnxInitializer, type OnnxNode } from '../onnx/builder.js';
import type { QuantPlan } from './plan.js';

/**
 * 8-bit activation type. Bundles use uint8 (u8 activations x s8 weights, the VNNI
 * vpdpbusd form): with int8 activations onnxruntime-node 1.30's CPU provider left the
 * convolutions as fp32 Conv (measured: no QLinearConv in the optimized model, no speed-up).
 */
export type ActivationType = 'uint8' | 'int8';

/** Calibrated range of a point's values. */
export interface Range {
  lo: number;
  hi: number;
}

interface QParams {
  scale: number;
  zeroPoint: number;
}

/**
 * Scale and zero point covering [lo, hi] (widened to include 0 so that 0 is exact, as
 * padding and ReLU need).
 * @example activationParams({ lo: 0, hi: 2.55 }, 'uint8') // { scale: 0.01, zeroPoint: 0 }
 */
export function activationParams(range: Range, type: ActivationType): QParams {
  const qmin = type === 'uint8' ? 0 : -128;
  const lo = Math.min(0, range.lo);
  let hi = Math.max(0, range.hi);
  if (hi - lo < 1e-8) hi = lo + 1e-8;
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(qmin + 255, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Symmetric per-output-channel int8 weights.
 * @example const { q, scales } = quantizeWeights(w, 64); // q: Int8Array, scales: Float32Array(64)
 */
export function quantizeWeights(w: Float32Array, outChannels: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / outChannels;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let m = 0;
    for (let k = 0; k < per; k++) m = Math.max(m, Math.abs(w[o * per + k]!));
    const s = m > 0 ? Math.fround(m / 127) : 1;
    scales[o] = s;
    for (let k = 0; k < per; k++) q[o * per + k] = Math.max(-127, Math.min(127, Math.round(w[o * per + k]! / s)));
  }
  return { q, scales };
}

/** An initializer of any data type from its typed array (little-endian, as ONNX's raw_data). */
function rawInit(name: string, dims: readonly number[], dataType: number, data: Int8Array | Uint8Array | Int32Array): OnnxInitializer {
  return { name, dims, dataType, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * The QDQ graph of a plan, given every untied point's range.
 * @example
 * const qdq = buildQdqGraph(plan, ranges, 'uint8');
 * const bytes = encodeModel(qdq, { producer: 'lwfm-spm', version });
 */
export function buildQdqGraph(plan: QuantPlan, ranges: ReadonlyMap<string, Range>, type: ActivationType): OnnxGraph {
  const inits = new Map(plan.graph.initializers.map((i) => [i.name, i]));
  const used = new Set<string>();
  const outInits: OnnxInitializer[] = [];
  const nodes: OnnxNode[] = [];
  const params = new Map<string, { scale: string; zp: string; value: QParams }>();
  const zpInit = (name: string, v: number): OnnxInitializer =>
    type === 'uint8' ? rawInit(name, [], DataType.UINT8, Uint8Array.of(v)) : rawInit(name, [], DataType.INT8, Int8Array.of(v));

  for (const p of plan.points) {
    const root = p.tiedTo ?? p.tensor;
    const existing = params.get(root);
    if (existing) {
      params.set(p.tensor, existing);
      continue;
    }
    const r = ranges.get(root);
    if (!r) throw new Error(`no calibrated range for ${root}`);
    const value = activationParams(p.relu ? { lo: 0, hi: r.hi } : r, type);
    const entry = { scale: `${root}.qscale`, zp: `${root}.qzero`, value };
    outInits.push({ name: entry.scale, dims: [], float: Float32Array.of(value.scale) }, zpInit(entry.zp, value.zeroPoint));
    params.set(p.tensor, entry);
  }

  const qName = (t: string): string => `${t}.q`;
  let dqCount = 0;
  const dequantize = (t: string): string => {
    const p = params.get(t)!;
    const out = `${t}.dq${dqCount++}`;
    nodes.push({ op: 'DequantizeLinear', inputs: [qName(t), p.scale, p.zp], outputs: [out] });
    return out;
  };
  const quantize = (t: string): void => {
    const p = params.get(t)!;
    nodes.push({ op: 'QuantizeLinear', inputs: [t, p.scale, p.zp], outputs: [qName(t)] });
  };

  const convWeights = (n: OnnxNode): string[] => {
    const w = inits.get(n.inputs[1]!);
    if (!w || !('float' in w)) throw new Error(`Conv ${n.name ?? n.outputs[0]} weight is not a float initializer`);
    used.add(w.name);
    const out = w.dims[0]!;
    const { q, scales } = quantizeWeights(w.float, out);
    const wq = `${w.name}.int8`;
    outInits.push(
      rawInit(wq, w.dims, DataType.INT8, q),
      { name: `${wq}.scale`, dims: [out], float: scales },
      rawInit(`${wq}.zero`, [out], DataType.INT8, new Int8Array(out)),
    );
    nodes.push({
      op: 'DequantizeLinear',
      inputs: [wq, `${wq}.scale`, `${wq}.zero`],
      outputs: [`${wq}.dq`],
      attributes: { axis: { int: 0 } },
    });
    const result = [`${wq}.dq`];
    const bName = n.inputs[2];
    if (bName) {
      const b = inits.get(bName);
      if (!b || !('float' in b)) throw new Error(`Conv ${n.name ?? n.outputs[0]} bias is not a float initializer`);
      used.add(b.name);
      const sIn = params.get(n.inputs[0]!)!.value.scale;
      const bScale = new Float32Array(out);
      const bq = new Int32Array(out);
      for (let o = 0; o < out; o++) {
        bScale[o] = sIn * scales[o]!;
        bq[o] = Math.max(-(2 ** 31) + 1, Math.min(2 ** 31 - 1, Math.round(b.float[o]! / bScale[o]!)));
      }
      const bqName = `${b.name}.int32`;
      outInits.push(
        rawInit(bqName, [out], DataType.INT32, bq),
        { name: `${bqName}.scale`, dims: [out], float: bScale },
        rawInit(`${bqName}.zero`, [out], DataType.INT32, new Int32Array(out)),
      );
      nodes.push({
        op: 'DequantizeLinear',
        inputs: [bqName, `${bqName}.scale`, `${bqName}.zero`],
        outputs: [`${bqName}.dq`],
        attributes: { axis: { int: 0 } },
      });
      result.push(`${bqName}.dq`);
    }
    return result;
  };

  for (const input of plan.graph.inputs) if (params.has(input.name)) quantize(input.name);
  for (const n of plan.graph.nodes) {
    let inputs = n.inputs.map((i) => (params.has(i) ? dequantize(i) : i));
    if (n.op === 'Conv') inputs = [inputs[0]!, ...convWeights(n)];
    nodes.push({ ...n, inputs });
    for (const o of n.outputs) if (params.has(o)) quantize(o);
  }
  for (const [name, init] of inits) if (!used.has(name)) outInits.push(init);
  return { ...plan.graph, nodes, initializers: outInits };
}
