/**
 * ONNX's own protobuf schema (third_party/onnx/onnx.proto, vendored verbatim from ONNX
 * 1.23.0), loaded once by protobufjs. Writing and reading models through these types means
 * every field we emit or read is checked against ONNX's definition instead of against
 * hand-written field numbers.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** third_party/onnx/onnx.proto of this package (this file is src/model/onnx or dist/model/onnx). */
export const ONNX_PROTO_PATH = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
  'third_party',
  'onnx',
  'onnx.proto',
);

/** The message types lwfm-spm uses. */
export interface OnnxSchema {
  model: protobuf.Type;
  tensorDataType: Readonly<Record<string, number>>;
  attributeType: Readonly<Record<string, number>>;
}

let schema: OnnxSchema | undefined;

/**
 * The parsed schema (parsed on first use, about 20 ms).
 * @example
 * const { model } = onnxSchema();
 * const decoded = model.decode(bytes);
 */
export function onnxSchema(): OnnxSchema {
  if (!schema) {
    const root = protobuf.loadSync(ONNX_PROTO_PATH);
    schema = {
      model: root.lookupType('onnx.ModelProto'),
      tensorDataType: root.lookupEnum('onnx.TensorProto.DataType').values,
      attributeType: root.lookupEnum('onnx.AttributeProto.AttributeType').values,
    };
  }
  return schema;
}
