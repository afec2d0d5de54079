/**
 * Issue 11 item 4: finite but extreme inputs get finite results or a RangeError that says
 * which value is out of range; never Infinity logits or an uncoded Error.
 */
import { describe, expect, it } from 'vitest';
import { Head } from '../src/head.js';
import { MAX_LOGIT_BOUND } from '../src/head_options.js';
import { rng as seededRandom } from './helpers/seeded_rng.js';

const channels = [64, 32];
const F = 3;
const size = (64 + 32) * F * F;

function features(n: number, scale: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n * size }, () => (rnd() * 2 - 1) * scale);
}

async function logits(head: Head, support: Float32Array, query: Float32Array): Promise<Float32Array> {
  return head.score(await head.prepareSupport(support, [0, 1, 2]), query);
}

describe('feature magnitude', () => {
  it.each([1e19, 1e30, 3e38, -1e11])('rejects a feature of magnitude %s with a RangeError naming it', async (big) => {
    const head = new Head({ channels, featureSize: F, device: 'cpu' });
    const support = features(3, 1, 1);
    const query = features(2, 1, 2);
    query[size + 7] = big;
    const err = await logits(head, support, query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/magnitude at most 1e10 for query features .* at index 871 \(image 1, channel 0, pixel 7\)/);
    support[5] = big;
    await expect(head.prepareSupport(support, [0, 1, 2])).rejects.toThrow(/support features .* at index 5 \(image 0, channel 0, pixel 5\)/);
    expect(() => head.prepareSupportSync(support, [0, 1, 2])).toThrow(RangeError);
    head.dispose();
  });

  it.each([1e-30, 1e-3, 1, 1e5, 1e10])('gives finite logits for features of magnitude up to %s, matcher included', async (scale) => {
    const rnd = seededRandom(7);
    const matcher = channels.map((c) => ({
      w1: Float32Array.from({ length: (c / 2) * c }, () => (rnd() - 0.5) * 0.2),
      w2: Float32Array.from({ length: (c / 2) * c }, () => (rnd() - 0.5) * 0.2),
    }));
    const head = new Head({ channels, featureSize: F, device: 'cpu', matcher, matcherWeight: 1 });
    const out = await logits(head, features(3, scale, 3), features(4, scale, 4));
    expect(out.length).toBe(12);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
    // The head is invariant to one common scale of all features (docs/computation.md §4) up to its epsilons:
    // large scales agree with scale 1.
    if (scale >= 1) {
      const ref = await logits(head, features(3, 1, 3), features(4, 1, 4));
      for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(ref[i]!, 3);
    }
    head.dispose();
  });
});

describe('temperature and matcherWeight', () => {
  it('rejects options whose logits could leave float32, naming the values', () => {
    expect(() => new Head({ channels, featureSize: F, temperature: 1e-40 })).toThrow(RangeError);
    expect(() => new Head({ channels, featureSize: F, temperature: 1e-40 })).toThrow(/options\.temperature .* received temperature 1e-40/);
    expect(() => new Head({ channels, featureSize: F, matcherWeight: 1e38 })).toThrow(/options\.matcherWeight 1e\+38/);
    expect(() => new Head({ channels, featureSize: F, temperature: 1.25 / MAX_LOGIT_BOUND / 2 })).toThrow(RangeError);
  });

  it('accepts the smallest temperature the bound allows, with finite logits', async () => {
    const head = new Head({ channels, featureSize: F, device: 'cpu', temperature: (1 + 0.25) / MAX_LOGIT_BOUND });
    for (const v of await logits(head, features(3, 1, 5), features(2, 1, 6))) expect(Number.isFinite(v)).toBe(true);
    head.dispose();
  });
});
