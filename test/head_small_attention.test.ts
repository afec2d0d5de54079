/**
 * Small temperatureAttn (issue 11's fuzzer finding): attention weights fall to 1e-17 at 0.05 and
 * to 1e-170 at 0.01, so the attended pixel vectors a x get shorter than docs/computation.md §3.3's
 * 1e-8 guard and their matched cosines shrink toward 0. The CPU engine (native/core) must follow
 * the literal double-precision reference (test/helpers/head_reference.ts) there too, on every
 * SIMD path; the PyTorch fixtures at 0.05 are in test/head.test.ts and test/explain_terms.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Head, nativeInfo } from '../src/index.js';
import { headOptionsFor, makeEpisode, type Episode, type EpisodeCase } from './helpers/episode_rng.js';
import { referenceLogits } from './helpers/head_reference.js';

function smallCase(seed: number, temperatureAttn: number, matcher: boolean, topK: number): EpisodeCase {
  return {
    name: `seed ${seed}`,
    seed,
    labels: [0, 1, 2, 0, 1],
    queries: 3,
    channels: [16, 8],
    feature_size: 3,
    temperature_attn: temperatureAttn,
    temperature: 0.2,
    matcher_weight: 1,
    top_k: topK,
    matcher,
  };
}

/** The engine's logits and the reference's for one case, on the given (possibly edited) inputs. */
function scoreBoth(c: EpisodeCase, { support, query, matcher }: Episode) {
  const head = new Head({ ...headOptionsFor(c, matcher), device: 'cpu' });
  try {
    const got = head.scoreSync(head.prepareSupportSync(support, c.labels), query);
    const want = referenceLogits(
      {
        channels: c.channels,
        featureSize: c.feature_size,
        way: Math.max(...c.labels) + 1,
        temperatureAttn: c.temperature_attn,
        temperature: c.temperature,
        matcherWeight: c.matcher_weight,
        topK: c.top_k,
        matcher,
      },
      support,
      c.labels,
      query,
    );
    return { got, want };
  } finally {
    head.dispose();
  }
}

// float32 vs double: the attention weights' relative error is about 2e-5 / T_attn (float32
// correlations enter the softmax divided by T_attn and by their spread), and a matched cosine
// whose attended norm is below 1e-8 carries that error; there are at most topK of them per tap.
function tolerance(c: EpisodeCase): number {
  return (1e-5 + (2 * 2e-5 * c.top_k * c.matcher_weight) / c.temperature_attn) / c.temperature;
}

describe('small temperatureAttn: the CPU engine follows docs/computation.md §3.3 (1e-8 guard on attended norms)', () => {
  afterEach(() => {
    delete process.env.LWFM_SPM_SIMD;
  });

  const cpuSimd = nativeInfo().cpuSimd;
  const simds = (['scalar', 'avx2', 'avx512'] as const).filter(
    (simd) => simd === 'scalar' || cpuSimd === simd || (simd === 'avx2' && cpuSimd === 'avx512'),
  );
  console.log(`[head_small_attention] SIMD paths tested: ${simds.join(', ')} (this CPU supports up to ${cpuSimd})`);
  for (const simd of simds)
    for (const temperatureAttn of [0.05, 0.02, 0.01])
      for (const [matcher, topK] of [
        [true, 9],
        [false, 5],
        [true, 1],
      ] as const)
        it(`${simd}, temperatureAttn ${temperatureAttn}, ${matcher ? 'matcher MLP' : 'no MLP'}, topK ${topK}`, () => {
          process.env.LWFM_SPM_SIMD = simd;
          expect(nativeInfo().simd).toBe(simd);
          const c = smallCase(31 + topK, temperatureAttn, matcher, topK);
          const { got, want } = scoreBoth(c, makeEpisode(c));
          const tol = tolerance(c);
          for (let k = 0; k < want.length; k++)
            expect(Math.abs(got[k]! - want[k]!), `logit ${k}: ${got[k]} vs ${want[k]}`).toBeLessThan(tol);
        });

  it('a centred pixel shorter than 1e-8 (but not zero) is matched by the cost cosine without epsilon', () => {
    const c = smallCase(40, 5, false, 9);
    const ep = makeEpisode(c);
    const C = 24,
      P = 9;
    // Pixel 3 of support 0: about 2e-9 long after centring, so max(|x|, 1e-8) != |x|.
    for (let ch = 0; ch < C; ch++) ep.support[ch * P + 3] = ch === 0 ? 2e-9 : 0;
    const { got, want } = scoreBoth(c, ep);
    for (let k = 0; k < want.length; k++) expect(Math.abs(got[k]! - want[k]!), `logit ${k}: ${got[k]} vs ${want[k]}`).toBeLessThan(1e-4);
  });

  it('explain at temperatureAttn 0.01: weights underflowing float32 give finite terms whose similarities add up', async () => {
    const c = smallCase(41, 0.01, true, 9);
    const ep = makeEpisode(c);
    const head = new Head({ channels: c.channels, temperatureAttn: 0.01, matcherWeight: 1, topK: 9, matcher: ep.matcher, device: 'cpu' });
    try {
      const prepared = await head.prepareSupport(ep.support, c.labels);
      const terms = await head.explain(prepared, ep.query, 0);
      let smallest = Infinity;
      for (const cls of terms.classes)
        for (const s of cls.supports)
          for (const t of s.taps) {
            for (const a of [...t.supportAttention, ...t.queryAttention]) smallest = Math.min(smallest, a);
            for (const v of t.similarity!) expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
            expect(t.match!).toBeCloseTo(
              t.similarity!.reduce((a, b) => a + b, 0),
              5,
            );
          }
      // The episode does reach weights where a |u| < 1e-8 (else it would not test the guard).
      expect(smallest).toBeLessThan(1e-9);
      for (const cls of terms.classes) expect(Number.isFinite(cls.logit)).toBe(true);
    } finally {
      head.dispose();
    }
  });
});
