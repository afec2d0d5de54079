/**
 * Head.explain against an independent reference: test/fixtures/explain/cases.json holds every
 * term of one query's logits as tools/fixtures/make_explain_fixtures.py computes them literally
 * in PyTorch, with SciPy's linear_sum_assignment for the pixel assignment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Head } from '../src/head.js';
import { makeEpisode, headOptionsFor, type EpisodeCase } from './helpers/episode_rng.js';

interface ExplainCase extends EpisodeCase {
  expected: {
    attention: number[];
    sigma: number[];
    similarity: number[];
    tap_match: number[];
    pair_match: number[];
    global: number[];
    matching: number[];
    logits: number[];
  };
}

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'explain', 'cases.json'), 'utf8')) as {
  cases: ExplainCase[];
};

describe('Head.explain matches the literal reference term by term', () => {
  for (const c of fixture.cases) {
    it(c.name, async () => {
      const { support, query, matcher } = makeEpisode(c);
      const head = new Head({ ...headOptionsFor(c, matcher), device: 'cpu', threads: 2 });
      try {
        const prepared = await head.prepareSupport(support, c.labels);
        const terms = await head.explain(prepared, query, 0);
        const logits = await head.score(prepared, query);
        const taps = c.channels.length;
        const p = c.feature_size ** 2;
        const e = c.expected;
        // The float32 correlations enter the softmax divided by T_attn (and by their spread), so
        // the attention weights' relative error grows as 1 / T_attn (4e-6 at the default 5, 4e-4
        // at 0.05), and with them every term they scale: pooled maps and, where a |u| < 1e-8,
        // the matched similarities (docs/computation.md §4).
        const rel = 2e-5 / c.temperature_attn;
        const close = (got: number, want: number, abs = 5e-6) =>
          expect(Math.abs(got - want)).toBeLessThanOrEqual(abs + rel * Math.abs(want));
        expect(terms.way).toBe(e.logits.length);
        for (const cls of terms.classes) {
          // The decomposition is the score: same logit as score(), and (g + M) / T == logit.
          expect(cls.logit).toBe(logits[cls.index]);
          expect(Math.abs((cls.global + cls.matching) / c.temperature - cls.logit)).toBeLessThan(1e-6 * Math.max(1, Math.abs(cls.logit)));
          close(cls.global, e.global[cls.index]!);
          close(cls.matching, e.matching[cls.index]!);
          close(cls.logit, e.logits[cls.index]!, 5e-5);
          for (const s of cls.supports) {
            expect(c.labels[s.support]).toBe(cls.index);
            close(s.match, e.pair_match[s.support]!);
            for (const t of s.taps) {
              const at = (s.support * taps + t.tap) * 2 * p;
              t.supportAttention.forEach((v, i) => close(v, e.attention[at + i]!));
              t.queryAttention.forEach((v, j) => close(v, e.attention[at + p + j]!));
              if (c.matcher_weight === 0) {
                expect(t.assignment).toBeNull();
                expect(t.match).toBeNull();
                continue;
              }
              const px = (s.support * taps + t.tap) * p;
              expect(t.assignment).toEqual(e.sigma.slice(px, px + p)); // SciPy's optimum, exactly
              t.similarity!.forEach((v, i) => close(v, e.similarity[px + i]!));
              close(t.match!, e.tap_match[s.support * taps + t.tap]!);
              expect(t.topK).toHaveLength(c.top_k);
              const sum = t.topK!.reduce((acc, i) => acc + t.similarity![i]!, 0);
              expect(sum).toBeCloseTo(t.match!, 5);
            }
          }
        }
        prepared.dispose();
      } finally {
        head.dispose();
      }
    });
  }

  it('rejects a query index out of range and a disposed support', async () => {
    const c = fixture.cases[0]!;
    const { support, query, matcher } = makeEpisode(c);
    const head = new Head({ ...headOptionsFor(c, matcher), device: 'cpu', threads: 1 });
    const prepared = await head.prepareSupport(support, c.labels);
    await expect(head.explain(prepared, query, 1)).rejects.toBeInstanceOf(RangeError);
    await expect(head.explain(prepared, query.subarray(1))).rejects.toBeInstanceOf(RangeError);
    prepared.dispose();
    await expect(head.explain(prepared, query)).rejects.toMatchObject({ code: 'ERR_LWFM_DISPOSED' });
    head.dispose();
  });
});
