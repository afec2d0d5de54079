/**
 * Reads ONNX files through ONNX's schema (./schema.ts): the signature (graph inputs and
 * outputs) to check a bundle against its model.json without loading a runtime, and the
 * whole graph back into the plain form of ./builder.ts, so a graph can be rewritten (for
 * example quantised) and encoded again.
 */
import type { Message } from 'protobufjs';
import { DataType, type AttributeValue, type OnnxGraph, type OnnxInitializer, type OnnxNode, type OnnxValueInfo } from './builder.js';
import { onnxSchema } from './schema.js';

export interface OnnxSignature {
  opset: number | undefined;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** Decoded field values are plain objects of the schema's shape; int64 comes back as a Long or a number. */
type Obj = Record<string, unknown>;
type Int64 = number | { toNumber(): number };

const toNumber = (v: unknown): number =>
  typeof v === 'number' ? v : v && typeof v === 'object' && 'toNumber' in v ? (v as Exclude<Int64, number>).toNumber() : 0;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** Decodes a ModelProto; throws when the bytes are not one or it has no graph. */
function decode(bytes: Uint8Array): { model: Obj; graph: Obj } {
  const model = onnxSchema().model.decode(bytes) as Message & Obj;
  const graph = model.graph as Obj | null | undefined;
  if (!graph) throw new Error('no graph in the model');
  return { model, graph };
}

function valueInfo(v: Obj): OnnxValueInfo {
  const tensorType = ((v.type as Obj | undefined)?.tensorType ?? {}) as Obj;
  const dims = list((tensorType.shape as Obj | undefined)?.dim).map((d): number | string => {
    if (d.dimParam) return d.dimParam as string;
    if (d.dimValue !== undefined && d.dimValue !== null) return toNumber(d.dimValue);
    return '?';
  });
  return {
    name: v.name as string,
    elemType: toNumber(tensorType.elemType),
    dims,
  };
}

function defaultOpset(model: Obj): number | undefined {
  const o = list(model.opsetImport).find((x) => !x.domain || x.domain === 'ai.onnx');
  return o ? toNumber(o.version) : undefined;
}

/**
 * Parses the inputs and outputs of an ONNX ModelProto. Throws on damaged bytes.
 * @example
 * const sig = readOnnxSignature(await readFile('backbone.onnx'));
 * sig.outputs[0]; // { name: 'features', elemType: 1, dims: ['N', 1024, 3, 3] }
 */
export function readOnnxSignature(bytes: Uint8Array): OnnxSignature {
  const { model, graph } = decode(bytes);
  return {
    opset: defaultOpset(model),
    inputs: list(graph.input).map(valueInfo),
    outputs: list(graph.output).map(valueInfo),
  };
}

function attributeValue(a: Obj): AttributeValue {
  const t = onnxSchema().attributeType;
  switch (a.type) {
    case t.INT:
      return { int: toNumber(a.i) };
    case t.FLOAT:
      return { float: a.f as number };
    case t.INTS:
      return { ints: list(a.ints).map(toNumber) };
    case t.FLOATS:
      return { floats: [...(a.floats as number[])] };
    case t.STRING:
      return { string: new TextDecoder().decode(a.s as Uint8Array) };
    default:
      throw new Error(`attribute ${String(a.name)} has type ${String(a.type)}, which lwfm-spm graphs do not use`);
  }
}

function initializer(t: Obj): OnnxInitializer {
  const name = t.name as string;
  const dims = list(t.dims).map(toNumber);
  const raw = t.rawData as Uint8Array | undefined;
  if (!raw || raw.byteLength === 0)
    throw new Error(`initializer ${name} keeps its values outside raw_data, which lwfm-spm graphs do not use`);
  const dataType = toNumber(t.dataType);
  // Copy into an own, aligned buffer: raw_data is a view into the file at any alignment
  // (and Buffer#slice would not copy).
  const own = new Uint8Array(raw);
  if (dataType === DataType.FLOAT) return { name, dims, float: new Float32Array(own.buffer) };
  if (dataType === DataType.INT64)
    return {
      name,
      dims,
      int64: Array.from(new BigInt64Array(own.buffer), Number),
    };
  return { name, dims, dataType, raw: own };
}

/**
 * Reads an ONNX file back into the plain graph form that encodeModel() writes (the subset
 * of ONNX that lwfm-spm's graphs use). Throws on damaged bytes or unsupported fields.
 * @example
 * const { graph } = decodeModel(await readFile('backbone.onnx'));
 * const again = encodeModel(graph, { producer: 'lwfm-spm', version: '0.1.0' });
 */
export function decodeModel(bytes: Uint8Array): {
  graph: OnnxGraph;
  opset: number | undefined;
} {
  const { model, graph } = decode(bytes);
  const nodes: OnnxNode[] = list(graph.node).map((n) => {
    const node: OnnxNode = {
      op: n.opType as string,
      inputs: [...(n.input as string[])],
      outputs: [...(n.output as string[])],
      ...(n.name ? { name: n.name as string } : {}),
      ...(n.domain ? { domain: n.domain as string } : {}),
    };
    const attrs = list(n.attribute);
    if (attrs.length) node.attributes = Object.fromEntries(attrs.map((a) => [a.name as string, attributeValue(a)]));
    return node;
  });
  return {
    opset: defaultOpset(model),
    graph: {
      name: (graph.name as string) ?? '',
      nodes,
      initializers: list(graph.initializer).map(initializer),
      inputs: list(graph.input).map(valueInfo),
      outputs: list(graph.output).map(valueInfo),
    },
  };
}
