/**
 * The support-set file format: round trips, and hostile bytes (truncated, flipped,
 * forged lengths, forged metadata with a recomputed checksum) that must each fail with
 * a named LwfmError, never a crash or an allocation sized by a forged header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { classifierFromEngine, type Prediction, type SupportSnapshot } from '../src/classifier/classifier.js';
import {
  checkSameModel,
  decodeSupportSnapshot,
  encodeSupportSnapshot,
  SUPPORT_FORMAT_VERSION,
  type SupportModelIdentity,
} from '../src/classifier/support_codec.js';
import { LwfmError } from '../src/errors.js';
import { loadBundle } from '../src/model/bundle.js';
import { fakeEngine, fakeNativeInfo } from './support/fakes.js';
import { smallConfig, writeSmallBundle } from './helpers/small_bundle.js';

const model: SupportModelIdentity = {
  channels: [2, 3],
  featureSize: 2,
  crop: 84,
  fingerprint: 'sha256:abc',
};
const C = 5;
const P = 4;

function snapshot(n = 3, labels: (string | number)[] = ['cat', 7, 'cat']): SupportSnapshot {
  const features = new Float32Array(n * C * P);
  for (let i = 0; i < features.length; i++) features[i] = Math.sin(i + 1) * 3.5;
  return { features, dims: [n, C, P], labels };
}

/** Recomputes the trailing CRC after a deliberate forgery, so the checks behind it are reached. */
function reseal(buf: Buffer): Buffer {
  buf.writeUInt32LE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LwfmError);
    return (e as LwfmError).code;
  }
  return undefined;
}

describe('support codec', () => {
  it('round-trips features (bit-exact), dims, labels and the model identity', () => {
    const s = snapshot();
    const bytes = encodeSupportSnapshot(s, model);
    const d = decodeSupportSnapshot(bytes, { expect: model });
    expect(d.version).toBe(SUPPORT_FORMAT_VERSION);
    expect(d.model).toEqual(model);
    expect(d.snapshot.dims).toEqual([3, C, P]);
    expect(d.snapshot.labels).toEqual(['cat', 7, 'cat']);
    expect(Buffer.from(d.snapshot.features.buffer).equals(Buffer.from(s.features.buffer))).toBe(true);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('LWFM-SUP');
  });

  it('decodes from an unaligned view inside a larger buffer', () => {
    const bytes = encodeSupportSnapshot(snapshot(), model);
    const big = Buffer.alloc(bytes.length + 3);
    bytes.copy(big, 1);
    const d = decodeSupportSnapshot(big.subarray(1, 1 + bytes.length));
    expect(Array.from(d.snapshot.features)).toEqual(Array.from(snapshot().features));
  });

  it('every truncation of a valid file is ERR_LWFM_SUPPORT_FORMAT', () => {
    const bytes = encodeSupportSnapshot(snapshot(2, ['a', 'b']), model);
    for (let len = 0; len < bytes.length; len++)
      expect(codeOf(() => decodeSupportSnapshot(bytes.subarray(0, len)))).toBe('ERR_LWFM_SUPPORT_FORMAT');
    expect(codeOf(() => decodeSupportSnapshot(Buffer.concat([bytes, Buffer.alloc(4)])))).toBe('ERR_LWFM_SUPPORT_FORMAT');
  });

  it('every single flipped byte is detected', () => {
    const bytes = encodeSupportSnapshot(snapshot(2, ['a', 'b']), model);
    for (let i = 0; i < bytes.length; i++) {
      const bad = Buffer.from(bytes);
      bad[i]! ^= 0x41;
      expect(
        codeOf(() => decodeSupportSnapshot(bad)),
        `byte ${i}`,
      ).toMatch(/^ERR_LWFM_SUPPORT_(FORMAT|VERSION)$/);
    }
  });

  it('forged huge lengths fail before any allocation they would size', () => {
    const bytes = encodeSupportSnapshot(snapshot(), model);
    for (const [offset, value] of [
      [12, 0xffffffff], // metadata length
      [16, 0xffffffff], // N
      [20, 0xfffffff0], // C
      [24, 0x7fffffff], // P
      [16, 0], // N = 0
    ] as const) {
      const bad = Buffer.from(bytes);
      bad.writeUInt32LE(value, offset);
      const err = (() => {
        try {
          decodeSupportSnapshot(reseal(bad));
        } catch (e) {
          return e as LwfmError;
        }
      })();
      expect(err?.code).toBe('ERR_LWFM_SUPPORT_FORMAT');
      expect(err?.message).toMatch(/bytes|limit|>= 1/);
    }
  });

  it('rejects another format version and a bad magic with named codes', () => {
    const bytes = encodeSupportSnapshot(snapshot(), model);
    const v2 = Buffer.from(bytes);
    v2.writeUInt32LE(2, 8);
    expect(codeOf(() => decodeSupportSnapshot(reseal(v2)))).toBe('ERR_LWFM_SUPPORT_VERSION');
    const magic = Buffer.from(bytes);
    magic.write('NOTLWFM!', 0, 'latin1');
    expect(codeOf(() => decodeSupportSnapshot(reseal(magic)))).toBe('ERR_LWFM_SUPPORT_FORMAT');
    expect(() => decodeSupportSnapshot('LWFM-SUP' as unknown as Uint8Array)).toThrow(TypeError);
  });

  /** Re-encodes with forged metadata JSON of the same dims and a valid checksum. */
  function withMeta(meta: string, n = 3): Buffer {
    const json = Buffer.from(meta, 'utf8');
    const dataOffset = Math.ceil((32 + json.length) / 4) * 4;
    const out = Buffer.alloc(dataOffset + n * C * P * 4 + 4);
    out.write('LWFM-SUP', 0, 'latin1');
    out.writeUInt32LE(1, 8);
    out.writeUInt32LE(json.length, 12);
    out.writeUInt32LE(n, 16);
    out.writeUInt32LE(C, 20);
    out.writeUInt32LE(P, 24);
    json.copy(out, 32);
    return reseal(out);
  }

  it('forged metadata with a valid checksum: each fails as ERR_LWFM_SUPPORT_FORMAT', () => {
    const good = { model, labels: ['a', 'b', 'c'] };
    expect(decodeSupportSnapshot(withMeta(JSON.stringify(good))).snapshot.labels).toEqual(['a', 'b', 'c']);
    const cases: [string, string][] = [
      ['not json', '{"model":'],
      ['array', '[]'],
      ['no model', JSON.stringify({ labels: ['a', 'b', 'c'] })],
      ['labels short', JSON.stringify({ model, labels: ['a', 'b'] })],
      ['label object', JSON.stringify({ model, labels: ['a', { x: 1 }, 'c'] })],
      ['label null (NaN in JSON)', JSON.stringify({ model, labels: ['a', Number.NaN, 'c'] })],
      [
        'channels disagree with C',
        JSON.stringify({
          model: { ...model, channels: [2, 2] },
          labels: ['a', 'b', 'c'],
        }),
      ],
      [
        'featureSize disagrees with P',
        JSON.stringify({
          model: { ...model, featureSize: 3 },
          labels: ['a', 'b', 'c'],
        }),
      ],
      [
        'negative channel',
        JSON.stringify({
          model: { ...model, channels: [-2, 7] },
          labels: ['a', 'b', 'c'],
        }),
      ],
      [
        'fingerprint not a string',
        JSON.stringify({
          model: { ...model, fingerprint: 5 },
          labels: ['a', 'b', 'c'],
        }),
      ],
      [
        'prototype pollution attempt',
        '{"__proto__":{"polluted":1},"model":{"channels":[2,3],"featureSize":2,"crop":84,"fingerprint":""},"labels":["a"]}',
      ],
    ];
    for (const [name, meta] of cases)
      expect(
        codeOf(() => decodeSupportSnapshot(withMeta(meta))),
        name,
      ).toBe('ERR_LWFM_SUPPORT_FORMAT');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('non-finite features are rejected, naming the row', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const bytes = encodeSupportSnapshot(snapshot(), model);
      const dataOffset = bytes.length - 4 - 3 * C * P * 4;
      bytes.writeFloatLE(bad, dataOffset + (2 * C * P + 1) * 4);
      expect(() => decodeSupportSnapshot(reseal(bytes))).toThrow(/row 2/);
    }
  });

  it('a set from another model is ERR_LWFM_SUPPORT_MODEL when an expected model is given', () => {
    const bytes = encodeSupportSnapshot(snapshot(), model);
    expect(
      codeOf(() =>
        decodeSupportSnapshot(bytes, {
          expect: { ...model, fingerprint: 'sha256:other' },
        }),
      ),
    ).toBe('ERR_LWFM_SUPPORT_MODEL');
    expect(codeOf(() => checkSameModel(model, { ...model, crop: 96 }))).toBe('ERR_LWFM_SUPPORT_MODEL');
    expect(() => decodeSupportSnapshot(bytes)).not.toThrow();
  });

  it('encode validates its arguments with TypeError/RangeError', () => {
    expect(() => encodeSupportSnapshot(snapshot(), { ...model, featureSize: 0 })).toThrow(TypeError);
    expect(() => encodeSupportSnapshot({ ...snapshot(), dims: [3, C + 1, P] }, model)).toThrow(RangeError);
    expect(() => encodeSupportSnapshot({ ...snapshot(), features: new Float32Array(5) }, model)).toThrow(RangeError);
    expect(() => encodeSupportSnapshot({ ...snapshot(), labels: ['a'] }, model)).toThrow(TypeError);
    expect(() => encodeSupportSnapshot(null as unknown as SupportSnapshot, model)).toThrow(TypeError);
  });

  it('exportSupport -> encode -> decode -> importSupport on another classifier predicts the same', async () => {
    // One fake engine for both: its backbone draws a random direction per image name.
    const engine = fakeEngine(0.3);
    const a = classifierFromEngine(engine, fakeNativeInfo);
    const b = classifierFromEngine(engine, fakeNativeInfo);
    await a.setSupport(['cat-1', 'dog-1', 'cat-2', 'eel-1'], ['cat', 'dog', 'cat', 'eel']);
    const bytes = encodeSupportSnapshot(a.exportSupport(), a.info().model);
    const { snapshot: s } = decodeSupportSnapshot(bytes, {
      expect: b.info().model,
    });
    const summary = await b.importSupport(s);
    expect(summary).toMatchObject({
      way: 3,
      size: 4,
      labels: ['cat', 'dog', 'eel'],
    });
    const queries = ['eel-9', 'cat-9', 'dog-9'];
    const [ra, rb] = [await a.classify(queries), await b.classify(queries)];
    expect((rb as Prediction[]).map((r) => r.logits)).toEqual((ra as Prediction[]).map((r) => r.logits));
    await a.dispose();
    await b.dispose();
  });
});

describe('backbone fingerprint', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwfm-fp-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is stable for the same files and changes with the graph or the preprocessing', async () => {
    const one = writeSmallBundle(join(dir, 'one'));
    const again = await loadBundle(one);
    const first = await loadBundle(one);
    expect(first.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(again.fingerprint).toBe(first.fingerprint);
    const otherMean = writeSmallBundle(join(dir, 'mean'), {
      config: smallConfig({ mean: [0.5, 0.5, 0.5] }),
    });
    expect((await loadBundle(otherMean)).fingerprint).not.toBe(first.fingerprint);
    // Head-only settings do not change the embeddings, so they keep the fingerprint.
    const otherTemp = writeSmallBundle(join(dir, 'temp'), {
      config: smallConfig({ temperature: 0.7 }),
    });
    expect((await loadBundle(otherTemp)).fingerprint).toBe(first.fingerprint);
    const flipped = writeSmallBundle(join(dir, 'flipped'));
    const onnx = readFileSync(join(flipped, 'backbone.onnx'));
    onnx[onnx.length - 1]! ^= 1; // the last byte lies inside a weight tensor's raw data
    writeFileSync(join(flipped, 'backbone.onnx'), onnx);
    expect((await loadBundle(flipped)).fingerprint).not.toBe(first.fingerprint);
    const f3 = writeSmallBundle(join(dir, 'f2'), {
      config: smallConfig({ featureSize: 2 }),
      onnx: { taps: [1], featureSize: 2 },
    });
    expect((await loadBundle(f3)).fingerprint).not.toBe(first.fingerprint);
  });
});
