/**
 * The ONNX writer on ONNX's own schema: graphs round-trip through encode/decode, miswired
 * graphs and fields that do not fit the schema are refused, and ONNX Runtime runs what it writes.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, OnnxGraphError, type OnnxGraph } from '../src/model/onnx/builder.js';
import { decodeModel, readOnnxSignature } from '../src/model/onnx/inspect.js';

const tiny = (): OnnxGraph => ({
  name: 'tiny',
  nodes: [
    { op: 'Mul', inputs: ['x', 'scale'], outputs: ['scaled'], name: 'mul' },
    { op: 'Reshape', inputs: ['scaled', 'shape'], outputs: ['flat'] },
    {
      op: 'Concat',
      inputs: ['flat', 'flat'],
      outputs: ['y'],
      attributes: { axis: { int: 1 } },
    },
    { op: 'QuantizeLinear', inputs: ['y', 'qs', 'qz'], outputs: ['q'] },
  ],
  initializers: [
    { name: 'scale', dims: [1, 2, 1], float: Float32Array.from([2, -1]) },
    { name: 'shape', dims: [2], int64: [0, -1] },
    { name: 'qs', dims: [], float: Float32Array.from([0.5]) },
    {
      name: 'qz',
      dims: [],
      dataType: DataType.INT8,
      raw: Uint8Array.from([3]),
    },
  ],
  inputs: [{ name: 'x', elemType: DataType.FLOAT, dims: ['N', 2, 3] }],
  outputs: [
    { name: 'y', elemType: DataType.FLOAT, dims: ['N', 12] },
    { name: 'q', elemType: DataType.INT8, dims: ['N', 12] },
  ],
});

describe('ONNX writer (protobufjs on onnx.proto)', () => {
  it('decodes what it encodes, field for field', () => {
    const g = tiny();
    const bytes = encodeModel(g, { producer: 'test', version: '1' });
    const back = decodeModel(bytes);
    expect(back.opset).toBe(17);
    expect(back.graph).toEqual(g);
    expect(readOnnxSignature(bytes)).toEqual({
      opset: 17,
      inputs: g.inputs,
      outputs: g.outputs,
    });
  });

  it('writes graphs that ONNX Runtime runs', async () => {
    const session = await ort.InferenceSession.create(encodeModel(tiny(), { producer: 'test', version: '1' }));
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    const out = await session.run({ x });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 4, 6, -4, -5, -6, 2, 4, 6, -4, -5, -6]);
    // round(y / 0.5) + 3, saturated to int8
    expect(Array.from(out.q!.data as Int8Array)).toEqual([7, 11, 15, -5, -7, -9, 7, 11, 15, -5, -7, -9]);
    await session.release();
  });

  it('refuses miswired graphs and tensors whose bytes do not fit their dims', () => {
    const p = { producer: 'test', version: '1' };
    const g = tiny();
    expect(() => encodeModel({ ...g, nodes: [...g.nodes].reverse() }, p)).toThrow(/reads 'y', which no graph input/);
    expect(() => encodeModel({ ...g, nodes: [...g.nodes, g.nodes[0]!] }, p)).toThrow(/'scaled' is defined twice/);
    expect(() =>
      encodeModel(
        {
          ...g,
          outputs: [...g.outputs, { name: 'z', elemType: 1, dims: [1] }],
        },
        p,
      ),
    ).toThrow(/'z' is not produced/);
    expect(() =>
      encodeModel(
        {
          ...g,
          initializers: [{ name: 'scale', dims: [3], float: new Float32Array(2) }, ...g.initializers.slice(1)],
        },
        p,
      ),
    ).toThrow(OnnxGraphError);
    expect(() =>
      encodeModel(
        {
          ...g,
          initializers: [...g.initializers.slice(0, 3), { name: 'qz', dims: [], dataType: 99, raw: new Uint8Array(1) }],
        },
        p,
      ),
    ).toThrow(/data type 99/);
  });

  it('checks fields against the schema', () => {
    const g = tiny();
    const bad = {
      ...g,
      nodes: [{ ...g.nodes[0]!, op: 7 as unknown as string }, ...g.nodes.slice(1)],
    };
    expect(() => encodeModel(bad, { producer: 'test', version: '1' })).toThrow(/ModelProto.*opType: string expected/);
  });

  it('rejects bytes that are not an ONNX model', () => {
    expect(() => readOnnxSignature(new TextEncoder().encode('hello, not protobuf'))).toThrow();
    expect(() => readOnnxSignature(new Uint8Array(0))).toThrow(/no graph/);
  });
});
