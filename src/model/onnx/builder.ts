/**
 * Builds ONNX models (opset 17) from nodes and float32/int64 initializers: the subset of
 * ModelProto / GraphProto / NodeProto / TensorProto / ValueInfoProto that the backbone
 * graph needs. Field numbers follow onnx/onnx.proto.
 */
import { MessageWriter } from './protobuf.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType values used here (8-bit and int32 ones for int8 QDQ graphs). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** Attribute values: integers, integer lists, floats. */
export type AttributeValue = { int: number } | { ints: readonly number[] } | { float: number };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A graph input or output: name, element type and dims (a string = symbolic dim). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: readonly (number | string)[];
}

export type OnnxInitializer =
  | { name: string; dims: readonly number[]; float: Float32Array }
  | { name: string; dims: readonly number[]; int64: readonly number[] }
  | { name: string; dims: readonly number[]; int8: Int8Array }
  | { name: string; dims: readonly number[]; uint8: Uint8Array }
  | { name: string; dims: readonly number[]; int32: Int32Array };

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

function attribute(name: string, value: AttributeValue): MessageWriter {
  const a = new MessageWriter().string(1, name);
  // AttributeProto: f=2, i=3, ints=8, type=20 (FLOAT=1, INT=2, INTS=7)
  if ('int' in value) a.int(3, value.int).int(20, 2);
  else if ('float' in value) a.float(2, value.float).int(20, 1);
  else {
    for (const v of value.ints) a.int(8, v);
    a.int(20, 7);
  }
  return a;
}

function node(n: OnnxNode): MessageWriter {
  const m = new MessageWriter();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) m.message(5, attribute(k, v));
  return m;
}

function tensor(t: OnnxInitializer): MessageWriter {
  const m = new MessageWriter();
  for (const d of t.dims) m.int(1, d);
  const raw = (type: number, a: ArrayBufferView): MessageWriter => m.int(2, type).string(8, t.name).bytes(9, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  // raw_data is little-endian; every platform Node runs on here is little-endian.
  if ('float' in t) raw(DataType.FLOAT, t.float);
  else if ('int8' in t) raw(DataType.INT8, t.int8);
  else if ('uint8' in t) raw(DataType.UINT8, t.uint8);
  else if ('int32' in t) raw(DataType.INT32, t.int32);
  else {
    const raw = new BigInt64Array(t.int64.map((v) => BigInt(v)));
    m.int(2, DataType.INT64).string(8, t.name).bytes(9, new Uint8Array(raw.buffer));
  }
  return m;
}

function valueInfo(v: OnnxValueInfo): MessageWriter {
  const shape = new MessageWriter();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new MessageWriter().int(1, d) : new MessageWriter().string(2, d));
  }
  const tensorType = new MessageWriter().int(1, v.elemType).message(2, shape);
  const type = new MessageWriter().message(1, tensorType);
  return new MessageWriter().string(1, v.name).message(2, type);
}

/**
 * Serializes a graph into ONNX ModelProto bytes.
 * @example
 * const bytes = encodeModel({ name: 'g', nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   initializers: [], inputs: [{ name: 'x', elemType: DataType.FLOAT, dims: ['N', 4] }],
 *   outputs: [{ name: 'y', elemType: DataType.FLOAT, dims: ['N', 4] }] }, { producer: 'lwfm-spm', version: '0.1.0' });
 */
export function encodeModel(graph: OnnxGraph, producer: { producer: string; version: string }): Uint8Array {
  const g = new MessageWriter();
  for (const n of graph.nodes) g.message(1, node(n));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensor(t));
  for (const i of graph.inputs) g.message(11, valueInfo(i));
  for (const o of graph.outputs) g.message(12, valueInfo(o));
  const opset = new MessageWriter().string(1, '').int(2, ONNX_OPSET);
  return new MessageWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, producer.producer)
    .string(3, producer.version)
    .message(7, g)
    .message(8, opset)
    .finish();
}
