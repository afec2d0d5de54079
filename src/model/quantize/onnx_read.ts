/**
 * Decodes an fp32 backbone.onnx back into the writer's in-memory graph (nodes, float and
 * int64 initializers, inputs, outputs), so that int8 quantization works on any bundle
 * (the default model, a converted checkpoint, a pretrained build) whatever wrote it.
 * Only the ONNX subset the backbone graphs use is understood; anything else is an error,
 * never a silently wrong graph.
 */
import { decodeString, readFields, type Field } from '../onnx/protobuf.js';
import { DataType, type AttributeValue, type OnnxGraph, type OnnxInitializer, type OnnxNode, type OnnxValueInfo } from '../onnx/builder.js';
import { readOnnxSignature } from '../onnx/inspect.js';

/** Repeated int64 fields may be written packed (wire 2) or one per field (wire 0). */
function pushInts(f: Field, out: number[]): void {
  if (f.wire === 0) out.push(Number(BigInt.asIntN(64, f.value)));
  else if (f.wire === 2) {
    for (const v of readFields(packedAsFields(f.value))) if (v.wire === 0) out.push(Number(BigInt.asIntN(64, v.value)));
  }
}

/** Re-tags packed varints as a sequence of field-1 varints so readFields can walk them. */
function packedAsFields(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let start = true;
  for (const b of bytes) {
    if (start) out.push(0x08); // field 1, wire 0
    out.push(b);
    start = (b & 0x80) === 0;
  }
  return Uint8Array.from(out);
}

function readAttribute(bytes: Uint8Array): [string, AttributeValue] {
  let name = '';
  let type = 0;
  let f: number | undefined;
  let i: number | undefined;
  const ints: number[] = [];
  for (const a of readFields(bytes)) {
    if (a.field === 1 && a.wire === 2) name = decodeString(a.value);
    else if (a.field === 2 && a.wire === 5) f = new DataView(a.value.buffer, a.value.byteOffset, 4).getFloat32(0, true);
    else if (a.field === 3 && a.wire === 0) i = Number(BigInt.asIntN(64, a.value));
    else if (a.field === 8) pushInts(a, ints);
    else if (a.field === 20 && a.wire === 0) type = Number(a.value);
  }
  // AttributeProto.type: FLOAT=1, INT=2, INTS=7
  if (type === 1 && f !== undefined) return [name, { float: f }];
  if (type === 2 && i !== undefined) return [name, { int: i }];
  if (type === 7) return [name, { ints }];
  throw new Error(`attribute ${name} has type ${type}, which the int8 quantizer does not read`);
}

function readNode(bytes: Uint8Array): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name: string | undefined;
  let op = '';
  let domain = '';
  const attributes: Record<string, AttributeValue> = {};
  for (const f of readFields(bytes)) {
    if (f.wire !== 2) continue;
    if (f.field === 1) inputs.push(decodeString(f.value));
    else if (f.field === 2) outputs.push(decodeString(f.value));
    else if (f.field === 3) name = decodeString(f.value);
    else if (f.field === 4) op = decodeString(f.value);
    else if (f.field === 5) {
      const [k, v] = readAttribute(f.value);
      attributes[k] = v;
    } else if (f.field === 7) domain = decodeString(f.value);
  }
  if (domain !== '' && domain !== 'ai.onnx')
    throw new Error(`node ${name ?? op} is in domain ${domain}; only standard ONNX operators can be quantized`);
  const node: OnnxNode = { op, inputs, outputs, attributes };
  return name ? { ...node, name } : node;
}

function readTensor(bytes: Uint8Array): OnnxInitializer {
  const dims: number[] = [];
  let type = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const int64s: number[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1) pushInts(f, dims);
    else if (f.field === 2 && f.wire === 0) type = Number(f.value);
    else if (f.field === 8 && f.wire === 2) name = decodeString(f.value);
    else if (f.field === 9 && f.wire === 2) raw = f.value;
    else if (f.field === 4 && f.wire === 2) {
      const v = new DataView(f.value.buffer, f.value.byteOffset, f.value.byteLength);
      for (let k = 0; k + 4 <= f.value.byteLength; k += 4) floats.push(v.getFloat32(k, true));
    } else if (f.field === 4 && f.wire === 5) floats.push(new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true));
    else if (f.field === 7) pushInts(f, int64s);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (type === DataType.FLOAT) {
    let data: Float32Array;
    if (raw) {
      // Copy: the view may not be 4-byte aligned within the file's buffer.
      data = new Float32Array(raw.byteLength / 4);
      new Uint8Array(data.buffer).set(raw);
    } else data = Float32Array.from(floats);
    if (data.length !== count) throw new Error(`initializer ${name} holds ${data.length} floats for dims [${dims.join(', ')}]`);
    return { name, dims, float: data };
  }
  if (type === DataType.INT64) {
    let values = int64s;
    if (raw) {
      const copy = new Uint8Array(raw);
      values = Array.from(new BigInt64Array(copy.buffer), (v) => Number(v));
    }
    if (values.length !== count) throw new Error(`initializer ${name} holds ${values.length} int64 values for dims [${dims.join(', ')}]`);
    return { name, dims, int64: values };
  }
  throw new Error(
    `initializer ${name} has data type ${type}; an fp32 backbone has float and int64 initializers only (is it already quantized?)`,
  );
}

/**
 * Decodes the graph of an fp32 backbone ONNX model.
 * @example
 * const graph = readOnnxGraph(await readFile(bundle.backbonePath));
 * graph.nodes.filter((n) => n.op === 'Conv').length; // 20 for ResNet-18 up to tap 8
 */
export function readOnnxGraph(model: Uint8Array): OnnxGraph {
  const sig = readOnnxSignature(model);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  let name = 'backbone';
  for (const f of readFields(model)) {
    if (f.field !== 7 || f.wire !== 2) continue;
    for (const g of readFields(f.value)) {
      if (g.wire !== 2) continue;
      if (g.field === 1) nodes.push(readNode(g.value));
      else if (g.field === 2) name = decodeString(g.value);
      else if (g.field === 5) initializers.push(readTensor(g.value));
    }
  }
  const inits = new Set(initializers.map((i) => i.name));
  // Older writers list initializers among the graph inputs too; the real inputs are the rest.
  const inputs: OnnxValueInfo[] = sig.inputs.filter((i) => !inits.has(i.name));
  return { name, nodes, initializers, inputs, outputs: sig.outputs };
}
