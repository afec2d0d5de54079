/**
 * ONNX models as plain data (nodes, initializers, graph inputs/outputs) and their
 * serialisation through ONNX's own protobuf schema (./schema.ts). Graph builders (the
 * backbone, a quantised variant) assemble an OnnxGraph with ordinary arrays, may rewrite it,
 * and call encodeModel(), which checks the graph's wiring and every field against the schema.
 */
import { onnxSchema } from './schema.js';

/** IR version 8 is the first that opset 17 allows; onnxruntime-node reads up to IR 11. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

/** TensorProto.DataType values (onnx.proto numbering). */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
} as const;

/** Attribute values: integers, floats, strings and lists of integers or floats. */
export type AttributeValue =
  { int: number } | { ints: readonly number[] } | { float: number } | { floats: readonly number[] } | { string: string };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator domain; '' (the default ONNX domain) when absent. */
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A graph input or output: name, element type and dims (a string = symbolic dim). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: readonly (number | string)[];
}

/**
 * A constant tensor. `raw` holds little-endian bytes of any `dataType` (e.g. int8 weights and
 * uint8 zero points of a QDQ graph); `float` and `int64` are shorthands.
 */
export type OnnxInitializer =
  | { name: string; dims: readonly number[]; float: Float32Array }
  | { name: string; dims: readonly number[]; int64: readonly number[] }
  | {
      name: string;
      dims: readonly number[];
      dataType: number;
      raw: Uint8Array;
    };

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

/** Thrown when a graph is miswired or a field does not fit ONNX's schema. */
export class OnnxGraphError extends Error {}

/** Bytes per element of the data types that `raw` initializers may use. */
const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
};

function attributeMessage(name: string, value: AttributeValue): Record<string, unknown> {
  const t = onnxSchema().attributeType;
  if ('int' in value) return { name, type: t.INT, i: value.int };
  if ('float' in value) return { name, type: t.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: t.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: t.FLOATS, floats: [...value.floats] };
  return { name, type: t.STRING, s: new TextEncoder().encode(value.string) };
}

/** Little-endian bytes of an initializer, checked against its dims. */
function tensorMessage(t: OnnxInitializer): Record<string, unknown> {
  const count = t.dims.reduce((a, b) => a * b, 1);
  let dataType: number;
  let raw: Uint8Array;
  if ('float' in t) {
    dataType = DataType.FLOAT;
    // raw_data is little-endian; every platform Node runs on here is little-endian.
    raw = new Uint8Array(t.float.buffer, t.float.byteOffset, t.float.byteLength);
  } else if ('int64' in t) {
    dataType = DataType.INT64;
    raw = new Uint8Array(BigInt64Array.from(t.int64, (v) => BigInt(v)).buffer);
  } else {
    dataType = t.dataType;
    raw = t.raw;
  }
  const per = ELEMENT_BYTES[dataType];
  if (per === undefined)
    throw new OnnxGraphError(`initializer ${t.name}: data type ${dataType} is not one of ${Object.keys(ELEMENT_BYTES).join(', ')}`);
  if (raw.byteLength !== count * per) {
    throw new OnnxGraphError(
      `initializer ${t.name}: ${raw.byteLength} bytes do not fit dims [${t.dims.join(', ')}] of ${per}-byte elements`,
    );
  }
  return { name: t.name, dims: [...t.dims], dataType, rawData: raw };
}

function valueInfoMessage(v: OnnxValueInfo): Record<string, unknown> {
  const dim = v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim } } },
  };
}

/**
 * Checks that every node input is a graph input, an initializer or an earlier node's
 * output ('' = omitted optional input), that no value is produced twice, and that every
 * graph output is produced. ONNX requires nodes in topological order.
 * @example checkGraphWiring({ name: 'g', nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], initializers: [], inputs: [x], outputs: [y] });
 */
export function checkGraphWiring(graph: OnnxGraph): void {
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (!name) throw new OnnxGraphError(`${what} has an empty name`);
    if (defined.has(name)) throw new OnnxGraphError(`value '${name}' is defined twice (again by ${what})`);
    defined.add(name);
  };
  for (const i of graph.inputs) define(i.name, `graph input ${i.name}`);
  for (const t of graph.initializers) define(t.name, `initializer ${t.name}`);
  graph.nodes.forEach((n, k) => {
    const label = `node ${k} (${n.op}${n.name ? ` ${n.name}` : ''})`;
    for (const i of n.inputs)
      if (i && !defined.has(i))
        throw new OnnxGraphError(`${label} reads '${i}', which no graph input, initializer or earlier node defines`);
    for (const o of n.outputs) define(o, label);
  });
  for (const o of graph.outputs) if (!defined.has(o.name)) throw new OnnxGraphError(`graph output '${o.name}' is not produced by any node`);
}

/**
 * Serializes a graph into ONNX ModelProto bytes, after checking its wiring and verifying the
 * message against ONNX's schema. Throws OnnxGraphError on either failure.
 * @example
 * const bytes = encodeModel({ name: 'g', nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *   initializers: [], inputs: [{ name: 'x', elemType: DataType.FLOAT, dims: ['N', 4] }],
 *   outputs: [{ name: 'y', elemType: DataType.FLOAT, dims: ['N', 4] }] }, { producer: 'lwfm-spm', version: '0.1.0' });
 */
export function encodeModel(
  graph: OnnxGraph,
  producer: { producer: string; version: string },
  opts?: { opsetImports?: readonly { domain: string; version: number }[] },
): Uint8Array {
  checkGraphWiring(graph);
  const message = {
    irVersion: ONNX_IR_VERSION,
    producerName: producer.producer,
    producerVersion: producer.version,
    opsetImport: [...(opts?.opsetImports ?? [{ domain: '', version: ONNX_OPSET }])],
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        input: [...n.inputs],
        output: [...n.outputs],
        ...(n.name ? { name: n.name } : {}),
        opType: n.op,
        ...(n.domain ? { domain: n.domain } : {}),
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attributeMessage(k, v)),
      })),
      initializer: graph.initializers.map(tensorMessage),
      input: graph.inputs.map(valueInfoMessage),
      output: graph.outputs.map(valueInfoMessage),
    },
  };
  const { model } = onnxSchema();
  const problem = model.verify(message);
  if (problem) throw new OnnxGraphError(`the graph does not fit ONNX's ModelProto: ${problem}`);
  return model.encode(message).finish();
}
