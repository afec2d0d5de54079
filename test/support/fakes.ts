/**
 * Fake backbone and head for testing the classifier's orchestration without
 * onnxruntime or the native addon. They implement the same structural interfaces
 * (src/classifier/engine.ts) as the real ones.
 *
 * Fake image "decoding": the basename of a path (or the UTF-8 text of a buffer) is
 * `<class>-<anything>`; the class name picks a one-hot direction and a hash of the
 * whole name adds noise, so that some images are misclassified. Names starting with
 * `bad` fail to decode.
 */
import { basename } from 'node:path';
import { DisposedError, ImageDecodeError } from '../../src/errors.js';
import type { Engine, EngineHead, EnginePreparedSupport } from '../../src/classifier/engine.js';
import type { EmbedBatch, ImageInput, ImageTensor } from '../../src/backbone/types.js';
import type { NativeInfoProvider } from '../../src/classifier/types.js';

export const FAKE_CHANNELS = [4, 4];
export const FAKE_C = 8;
export const FAKE_P = 1;

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Deterministic features of a named image; `directions` gives each class its own axis (first seen, first served). */
export function fakeFeatures(name: string, noise = 0.6, directions = new Map<string, number>()): Float32Array {
  const cls = name.split('-')[0]!;
  if (!directions.has(cls)) directions.set(cls, directions.size % FAKE_C);
  const out = new Float32Array(FAKE_C * FAKE_P);
  out[directions.get(cls)!] = 1;
  let h = hash(name);
  for (let c = 0; c < FAKE_C; c++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0;
    out[c]! += noise * ((h / 2 ** 32) * 2 - 1);
  }
  return out;
}

export class FakeBackbone {
  readonly device = 'cpu' as const;
  calls: (readonly ImageInput[] | ImageTensor)[] = [];
  disposed = false;
  noise: number;
  readonly directions = new Map<string, number>();
  constructor(noise = 0.6) {
    this.noise = noise;
  }
  async embed(inputs: readonly ImageInput[] | ImageTensor): Promise<EmbedBatch> {
    this.calls.push(inputs);
    await new Promise((r) => setImmediate(r));
    // Like the real backbone, work cut short by dispose() rejects with its own DisposedError.
    if (this.disposed) throw new DisposedError('Backbone');
    const names: (string | null)[] = Array.isArray(inputs)
      ? inputs.map((x) => (typeof x === 'string' ? basename(x).replace(/\.[a-z]+$/i, '') : Buffer.from(x).toString('utf8')))
      : Array.from(
          { length: (inputs as ImageTensor).dims[0] },
          (_, i) => `t${Math.round((inputs as ImageTensor).data[i * 3 * (inputs as ImageTensor).dims[2] ** 2]!)}-${i}`,
        );
    const n = names.length;
    const data = new Float32Array(n * FAKE_C * FAKE_P);
    const errors: (Error | null)[] = names.map((name, i) => {
      if (name!.startsWith('bad')) {
        data.fill(Number.NaN, i * FAKE_C * FAKE_P, (i + 1) * FAKE_C * FAKE_P);
        const source = Array.isArray(inputs) && typeof inputs[i] === 'string' ? (inputs[i] as string) : `<buffer #${i}>`;
        return new ImageDecodeError(source, 'corrupt fake image');
      }
      data.set(fakeFeatures(name!, this.noise, this.directions), i * FAKE_C * FAKE_P);
      return null;
    });
    return { data, dims: [n, FAKE_C, FAKE_P], errors, timings: { decode: 1, backbone: 2, total: 3 } };
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

export class FakePrepared implements EnginePreparedSupport {
  disposed = false;
  constructor(
    readonly way: number,
    readonly size: number,
    readonly means: Float32Array[],
  ) {}
  dispose(): void {
    this.disposed = true;
  }
}

/** Nearest class mean: logit = -squared distance. Rejects NaN like the real head. */
export class FakeHead implements EngineHead {
  readonly device = 'cpu' as const;
  disposed = false;
  prepared: FakePrepared[] = [];
  scoredRows: number[] = [];
  /** When set, score waits for this promise (to test concurrency). */
  gate: Promise<void> | undefined;

  async prepareSupport(features: Float32Array, labels: ArrayLike<number>): Promise<FakePrepared> {
    const d = FAKE_C * FAKE_P;
    if (features.length !== labels.length * d) throw new RangeError('bad support length');
    let way = 0;
    for (let i = 0; i < labels.length; i++) way = Math.max(way, labels[i]! + 1);
    const means = Array.from({ length: way }, () => new Float32Array(d));
    const counts = new Array<number>(way).fill(0);
    for (let i = 0; i < labels.length; i++) {
      counts[labels[i]!]!++;
      for (let c = 0; c < d; c++) means[labels[i]!]![c]! += features[i * d + c]!;
    }
    counts.forEach((k, cls) => {
      if (k === 0) throw new RangeError(`class ${cls} has no support`);
      for (let c = 0; c < d; c++) means[cls]![c]! /= k;
    });
    const p = new FakePrepared(way, labels.length, means);
    this.prepared.push(p);
    return p;
  }

  async score(support: EnginePreparedSupport, query: Float32Array): Promise<Float32Array> {
    if (this.gate) await this.gate;
    return this.scoreSync(support, query);
  }

  scoreSync(support: EnginePreparedSupport, query: Float32Array): Float32Array {
    const s = support as FakePrepared;
    if (s.disposed) throw new Error('prepared support used after dispose');
    const d = FAKE_C * FAKE_P;
    const q = query.length / d;
    this.scoredRows.push(q);
    const out = new Float32Array(q * s.way);
    for (let i = 0; i < q; i++) {
      for (let k = 0; k < s.way; k++) {
        let dist = 0;
        for (let c = 0; c < d; c++) {
          const v = query[i * d + c]!;
          if (Number.isNaN(v)) throw new RangeError('NaN query features');
          dist += (v - s.means[k]![c]!) ** 2;
        }
        out[i * s.way + k] = -dist;
      }
    }
    return out;
  }

  dispose(): void {
    this.disposed = true;
  }
}

export const fakeNativeInfo: NativeInfoProvider = () => ({
  path: '/fake/lwfm_spm.node',
  origin: 'cpu-build',
  cuda: false,
  simd: 'avx2',
  cpuSimd: 'avx2',
  hardwareThreads: 2,
});

export function fakeEngine(noise = 0.6): Engine & { backbone: FakeBackbone; head: FakeHead } {
  return {
    backbone: new FakeBackbone(noise),
    head: new FakeHead(),
    model: {
      dir: '/fake/model',
      crop: 84,
      channels: FAKE_CHANNELS,
      featureSize: 1,
      trained: false,
      source: 'fake',
      fingerprint: 'sha256:fake',
    },
    threads: 2,
    workers: 1,
  };
}
