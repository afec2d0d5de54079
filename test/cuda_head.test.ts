// The GPU head's shared per-pair / per-class code (cuda/head_math.cuh), run on the CPU via
// _cudaHeadScoreHost, against a literal double-precision implementation of docs/computation.md §3; and the
// GPU head itself against the same reference when a device exists.
import { describe, expect, it } from 'vitest';
import { native } from '../src/binding.js';
import { hooks } from './helpers/test_addon.js';
import { cudaInfo } from '../src/cuda.js';
import { prepareCudaSupport, prepareCudaSupportAsync } from '../src/cuda_head.js';
import { DeviceUnavailableError } from '../src/errors.js';
import { referenceLogits, type ReferenceConfig } from './helpers/head_reference.js';
import { argmaxRows } from './helpers/logits.js';
import { rng } from './helpers/seeded_rng.js';

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

interface Episode {
  cfg: ReferenceConfig;
  support: Float32Array;
  labels: Int32Array;
  queries: Float32Array;
}

function episode(seed: number, opts: Partial<ReferenceConfig> & { shots: number[]; queries: number; mlp: boolean }): Episode {
  const r = rng(seed);
  const channels = opts.channels ?? [8, 12];
  const featureSize = opts.featureSize ?? 3;
  const way = opts.shots.length;
  const C = channels.reduce((a, b) => a + b, 0),
    P = featureSize ** 2;
  const labels = Int32Array.from(opts.shots.flatMap((n, k) => new Array<number>(n).fill(k)));
  // ReLU-like non-negative features with a class signal, as a backbone would give.
  const proto = Array.from({ length: way }, () => Float32Array.from({ length: C * P }, () => gaussian(r)));
  const draw = (k: number) => Float32Array.from(proto[k]!, (v) => Math.max(0, v + 0.8 * gaussian(r)));
  const support = new Float32Array(labels.length * C * P);
  labels.forEach((k, s) => support.set(draw(k), s * C * P));
  const queries = new Float32Array(opts.queries * C * P);
  for (let q = 0; q < opts.queries; q++) queries.set(draw(q % way), q * C * P);
  const cfg: ReferenceConfig = {
    channels,
    featureSize,
    way,
    temperatureAttn: opts.temperatureAttn ?? 5,
    temperature: opts.temperature ?? 0.2,
    matcherWeight: opts.matcherWeight ?? 0.25,
    topK: opts.topK ?? 1,
  };
  if (opts.mlp) {
    cfg.matcher = channels.map((c) => ({
      w1: Float32Array.from({ length: (c / 2) * c }, () => gaussian(r) / Math.sqrt(c)),
      w2: Float32Array.from({ length: c * (c / 2) }, () => gaussian(r) / Math.sqrt(c / 2)),
    }));
  }
  return { cfg, support, labels, queries };
}

const cases: [string, Episode][] = [
  ['5-way 1-shot, matcher MLP', episode(1, { shots: [1, 1, 1, 1, 1], queries: 5, mlp: true })],
  ['3-way 5-shot, matcher MLP, weight 1', episode(2, { shots: [5, 5, 5], queries: 4, mlp: true, matcherWeight: 1 })],
  ['unequal shots, no MLP, topK 3', episode(3, { shots: [1, 3, 2], queries: 4, mlp: false, topK: 3 })],
  ['matcherWeight 0', episode(4, { shots: [2, 2], queries: 3, mlp: true, matcherWeight: 0 })],
  ['4 taps', episode(5, { shots: [1, 2, 1], queries: 3, mlp: true, channels: [4, 6, 4, 8] })],
  ['featureSize 2', episode(6, { shots: [1, 1], queries: 2, mlp: true, featureSize: 2 })],
  ['featureSize 5', episode(7, { shots: [2, 1], queries: 2, mlp: false, featureSize: 5, channels: [6, 10] })],
  // Attention weights of 1e-17 and less: docs/computation.md §3.3's 1e-8 guard on the attended norms
  // shrinks the matched cosines of those pixels (issue 11's fuzzer finding).
  [
    'temperatureAttn 0.05, matcher MLP, topK 9',
    episode(10, { shots: [1, 2, 1], queries: 4, mlp: true, temperatureAttn: 0.05, topK: 9, matcherWeight: 1 }),
  ],
  [
    'temperatureAttn 0.02, no MLP, topK 5',
    episode(11, { shots: [1, 2, 1], queries: 4, mlp: false, temperatureAttn: 0.02, topK: 5, matcherWeight: 1 }),
  ],
];

describe('GPU tiled matrix product steps on the CPU (_gemmNTHost)', () => {
  it('matches a plain product on edge-straddling shapes, both load paths, with and without ReLU', () => {
    const r = rng(42);
    for (const [M, N, K] of [
      [1, 1, 1],
      [130, 77, 13],
      [129, 257, 8],
      [5, 300, 12],
      [128, 128, 20],
      [64, 200, 6],
    ] as const) {
      const a = Float32Array.from({ length: M * K }, () => r() * 2 - 1);
      const b = Float32Array.from({ length: N * K }, () => r() * 2 - 1);
      for (const relu of [false, true]) {
        const got = hooks._gemmNTHost(a, b, M, N, K, relu);
        for (let i = 0; i < M; i++)
          for (let j = 0; j < N; j++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += a[i * K + k]! * b[j * K + k]!;
            if (relu) s = Math.max(s, 0);
            expect(Math.abs(got[i * N + j]! - s), `${M}x${N}x${K} [${i},${j}]`).toBeLessThan(1e-5);
          }
      }
    }
  });
});

describe('GPU head math on the CPU (_cudaHeadScoreHost) vs a literal docs/computation.md implementation', () => {
  for (const [name, e] of cases) {
    it(`${name}: logits within 1e-4, same argmax`, () => {
      const got = hooks._cudaHeadScoreHost(e.cfg, e.support, e.labels, e.queries);
      const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
      expect(got.length).toBe(want.length);
      for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!), `logit ${k}: ${got[k]} vs ${want[k]}`).toBeLessThan(1e-4);
      expect(argmaxRows(got, e.cfg.way)).toEqual(argmaxRows(want, e.cfg.way));
    });
  }

  for (const [name, e] of cases) {
    it(`${name}, solver 'auction': logits within 1e-4 of the reference, same argmax`, () => {
      // The auction's assignment is optimal for the quantized costs (2^-29 relative steps): on
      // these random features it is the exact optimum, so the logits agree as closely.
      const got = hooks._cudaHeadScoreHost({ ...e.cfg, solver: 'auction' }, e.support, e.labels, e.queries);
      const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
      for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!), `logit ${k}: ${got[k]} vs ${want[k]}`).toBeLessThan(1e-4);
      expect(argmaxRows(got, e.cfg.way)).toEqual(argmaxRows(want, e.cfg.way));
    });
  }

  it("rejects a solver other than 'exact' or 'auction'", () => {
    const [, e] = cases[0]!;
    expect(() => hooks._cudaHeadScoreHost({ ...e.cfg, solver: 'fast' as 'exact' }, e.support, e.labels, e.queries)).toThrow(
      /'exact' or 'auction'/,
    );
  });

  it('treats an all-zero pixel (cosine 0) like the reference', () => {
    const e = episode(8, { shots: [1, 1], queries: 2, mlp: true });
    const C = 20,
      P = 9;
    // Make pixel 4 of query 0 equal across channels: centered it is the zero vector.
    for (let c = 0; c < C; c++) e.queries[c * P + 4] = 0.5;
    const got = hooks._cudaHeadScoreHost(e.cfg, e.support, e.labels, e.queries);
    const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
    for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-4);
  });

  it('treats a pixel of norm below 1e-8 like the reference (cost cosine without epsilon)', () => {
    const e = episode(12, { shots: [1, 1], queries: 2, mlp: false, matcherWeight: 1, topK: 9 });
    const C = 20,
      P = 9;
    // Pixel 3 of support 0: centered, about 1e-9 long (not zero), so max(|x|, 1e-8) != |x|.
    for (let c = 0; c < C; c++) e.support[c * P + 3] = c === 0 ? 2e-9 : 0;
    const got = hooks._cudaHeadScoreHost(e.cfg, e.support, e.labels, e.queries);
    const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
    for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!), `logit ${k}: ${got[k]} vs ${want[k]}`).toBeLessThan(1e-4);
  });

  it('rejects finite features too large for float32 sums, naming the value (issue 11)', () => {
    // Values near the float range overflowed in the norms and inner products (NaN logits);
    // features beyond 1e10 in magnitude are now refused like NaN, in both engines' wording.
    const e = episode(9, { shots: [1, 1], queries: 2, mlp: false });
    const C = 20,
      P = 9;
    for (let c = 0; c < C; c++) e.queries[c * P + 2] = c % 2 ? 3e38 : -3e38;
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support, e.labels, e.queries)).toThrow(
      /magnitude at most 1e10 for query features of _cudaHeadScoreHost .* found -3e\+38 at index 2 \(image 0, channel 0, pixel 2\)/,
    );
  });

  it('rejects bad input with TypeError / RangeError', () => {
    const e = cases[0]![1];
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support.subarray(1), e.labels, e.queries)).toThrow(RangeError);
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support, Int32Array.from([0, 1, 2, 3, 9]), e.queries)).toThrow(/label/);
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support, Int32Array.from([0, 1, 2, 3, 3]), e.queries)).toThrow(/class 4/);
    const nan = e.queries.slice();
    nan[7] = NaN;
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support, e.labels, nan)).toThrow(
      /query features of _cudaHeadScoreHost.*index 7 \(image 0, channel 0, pixel 7\)/,
    );
    // The same wording as the CPU engine's (native/core/nonfinite_message.h), counted per image.
    const P = e.cfg.featureSize ** 2,
      C = e.cfg.channels.reduce((a, b) => a + b, 0);
    const badSupport = e.support.slice();
    badSupport[C * P + 2 * P + 3] = Infinity;
    expect(() => hooks._cudaHeadScoreHost(e.cfg, badSupport, e.labels, e.queries)).toThrow(
      new RegExp(`support features of _cudaHeadScoreHost.*index ${C * P + 2 * P + 3} \\(image 1, channel 2, pixel 3\\)`),
    );
    expect(() => hooks._cudaHeadScoreHost({ ...e.cfg, topK: 10 }, e.support, e.labels, e.queries)).toThrow(RangeError);
    expect(() => hooks._cudaHeadScoreHost({ ...e.cfg, channels: [8] }, e.support, e.labels, e.queries)).toThrow(RangeError);
    expect(() => hooks._cudaHeadScoreHost(e.cfg, e.support, [0, 1, 2, 3, 4] as unknown as Int32Array, e.queries)).toThrow(TypeError);
  });
});

const info = cudaInfo();
const reason = `no CUDA device: ${(info.reason ?? '').replace(/^no CUDA device: /, '')}`;
if (!info.available) console.log(`[cuda_head] GPU head tests skipped: ${reason}`);
else console.log('[cuda_head] no-device tests skipped: a usable CUDA device exists, so there is no refusal to check');

describe(`GPU head (cudaHeadPrepare / cudaHeadScore)${info.available ? '' : ` (skipped: ${reason})`}`, () => {
  for (const [name, e] of cases.filter(([, c]) => c.cfg.featureSize <= 5)) {
    it.skipIf(!info.available /* no CUDA device, reason printed above */)(
      `${name}: logits within 1e-4 of the reference, same argmax`,
      async () => {
        const handle = native.cudaHeadPrepare(e.cfg, e.support, e.labels);
        try {
          const got = await native.cudaHeadScore(handle, e.queries);
          const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
          for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-4);
          expect(argmaxRows(got, e.cfg.way)).toEqual(argmaxRows(want, e.cfg.way));
        } finally {
          native.cudaHeadDispose(handle);
        }
      },
    );
  }

  it.skipIf(info.available /* a usable GPU exists, reason printed above */)(
    'without a device, cudaHeadPrepare throws ERR_LWFM_DEVICE_UNAVAILABLE with the reason',
    () => {
      const e = cases[0]![1];
      let err: unknown;
      try {
        native.cudaHeadPrepare(e.cfg, e.support, e.labels);
      } catch (x) {
        err = x;
      }
      expect((err as { code?: string }).code).toBe('ERR_LWFM_DEVICE_UNAVAILABLE');
      expect((err as Error).message).toMatch(/CUDA/);
    },
  );

  it.skipIf(info.available /* a usable GPU exists, reason printed above */)(
    'without a device, prepareCudaSupportAsync rejects with DeviceUnavailableError; bad arguments still reject as such',
    async () => {
      const e = cases[0]![1];
      await expect(prepareCudaSupportAsync(e.cfg, e.support, e.labels)).rejects.toBeInstanceOf(DeviceUnavailableError);
      await expect(prepareCudaSupportAsync(e.cfg, e.support.subarray(1), e.labels)).rejects.toThrow(RangeError);
    },
  );

  it.skipIf(!info.available /* no CUDA device, reason printed above */)(
    'prepareCudaSupport[Async] / score / dispose through the typed wrapper',
    async () => {
      const e = cases[1]![1];
      const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
      for (const support of [prepareCudaSupport(e.cfg, e.support, e.labels), await prepareCudaSupportAsync(e.cfg, e.support, e.labels)]) {
        const got = await support.score(e.queries);
        for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-4);
        support.dispose();
        await expect(support.score(e.queries)).rejects.toThrow(/dispose/);
      }
    },
  );

  it.skipIf(!info.available /* no CUDA device, reason printed above */)(
    'rejects NaN queries with a RangeError naming index, image, channel and pixel, and keeps working',
    async () => {
      const e = cases[0]![1];
      const support = prepareCudaSupport(e.cfg, e.support, e.labels);
      try {
        const bad = e.queries.slice();
        bad[11] = NaN;
        const P = e.cfg.featureSize ** 2;
        await expect(support.score(bad)).rejects.toThrow(`index 11 (image 0, channel ${Math.floor(11 / P)}, pixel ${11 % P})`);
        expect((await support.score(e.queries)).length).toBe((e.queries.length / support.featureLength) * e.cfg.way);
      } finally {
        support.dispose();
      }
    },
  );

  it.skipIf(info.available /* a usable GPU exists, reason printed above */)(
    'prepareCudaSupport throws DeviceUnavailableError without a device',
    () => {
      const e = cases[0]![1];
      expect(() => prepareCudaSupport(e.cfg, e.support, e.labels)).toThrow(DeviceUnavailableError);
    },
  );

  it('prepareCudaSupport validates arguments first', () => {
    const e = cases[0]![1];
    expect(() => prepareCudaSupport({ channels: [] }, e.support, e.labels)).toThrow(TypeError);
    expect(() => prepareCudaSupport(e.cfg, e.support.subarray(3), e.labels)).toThrow(RangeError);
    expect(() => prepareCudaSupport(e.cfg, e.support, [0, 1])).toThrow(/5 labels/);
    expect(() => prepareCudaSupport({ ...e.cfg, featureSize: 6 }, e.support, e.labels)).toThrow(RangeError);
    expect(() => prepareCudaSupport(e.cfg, e.support, [0, 1, 2, 3, -1])).toThrow(RangeError);
    expect(() => prepareCudaSupport({ ...e.cfg, solver: 'fast' as 'exact' }, e.support, e.labels)).toThrow(
      /'exact' or 'auction' for options.solver/,
    );
  });

  it.skipIf(!info.available /* no CUDA device, reason printed above */)(
    "solver 'auction': logits within 1e-4 of the reference, same argmax",
    async () => {
      for (const [, e] of cases.filter(([, c]) => c.cfg.featureSize <= 5)) {
        const support = await prepareCudaSupportAsync({ ...e.cfg, solver: 'auction' }, e.support, e.labels);
        try {
          const got = await support.score(e.queries);
          const want = referenceLogits(e.cfg, e.support, e.labels, e.queries);
          for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - want[k]!)).toBeLessThan(1e-4);
          expect(argmaxRows(got, e.cfg.way)).toEqual(argmaxRows(want, e.cfg.way));
        } finally {
          support.dispose();
        }
      }
    },
  );
});
