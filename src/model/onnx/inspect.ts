/**
 * Reads the signature (graph inputs and outputs) of an ONNX file without loading the
 * weights into a runtime, so a bundle can be checked against its model.json cheaply.
 */
import { decodeString, readFields } from './protobuf.js';
import type { OnnxValueInfo } from './builder.js';

export interface OnnxSignature {
  opset: number | undefined;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  const dims: (number | string)[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === 1 && f.wire === 2) name = decodeString(f.value);
    if (f.field === 2 && f.wire === 2) {
      for (const t of readFields(f.value)) {
        if (t.field !== 1 || t.wire !== 2) continue; // tensor_type
        for (const tt of readFields(t.value)) {
          if (tt.field === 1 && tt.wire === 0) elemType = Number(tt.value);
          if (tt.field === 2 && tt.wire === 2) {
            for (const d of readFields(tt.value)) {
              if (d.field !== 1 || d.wire !== 2) continue;
              let dim: number | string = '?';
              for (const dv of readFields(d.value)) {
                if (dv.field === 1 && dv.wire === 0) dim = Number(dv.value);
                if (dv.field === 2 && dv.wire === 2) dim = decodeString(dv.value);
              }
              dims.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, elemType, dims };
}

/**
 * Parses the inputs and outputs of an ONNX ModelProto. Throws ProtobufError on damaged bytes.
 * @example
 * const sig = readOnnxSignature(await readFile('backbone.onnx'));
 * sig.outputs[0]; // { name: 'features', elemType: 1, dims: ['N', 1024, 3, 3] }
 */
export function readOnnxSignature(model: Uint8Array): OnnxSignature {
  const sig: OnnxSignature = { opset: undefined, inputs: [], outputs: [] };
  let sawGraph = false;
  for (const f of readFields(model)) {
    if (f.field === 7 && f.wire === 2) {
      sawGraph = true;
      for (const g of readFields(f.value)) {
        if (g.field === 11 && g.wire === 2) sig.inputs.push(readValueInfo(g.value));
        if (g.field === 12 && g.wire === 2) sig.outputs.push(readValueInfo(g.value));
      }
    }
    if (f.field === 8 && f.wire === 2) {
      let domain = '';
      let version: number | undefined;
      for (const o of readFields(f.value)) {
        if (o.field === 1 && o.wire === 2) domain = decodeString(o.value);
        if (o.field === 2 && o.wire === 0) version = Number(o.value);
      }
      if (domain === '' || domain === 'ai.onnx') sig.opset = version;
    }
  }
  if (!sawGraph) throw new Error('no graph in the model');
  return sig;
}
