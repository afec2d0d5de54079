/**
 * Head construction, prepareSupport(Sync) and score(Sync) on random configurations and
 * features: valid calls must match the literal double-precision docs/computation.md implementation
 * (test/helpers/head_reference.ts), invalid ones must fail with documented errors.
 */
import fc from 'fast-check';
import { Head } from '../../../src/head.js';
import { referenceLogits } from '../../helpers/head_reference.js';
import { check, checkDocumentedError, runsFor } from '../contract.js';

const odd = fc.constantFrom<unknown>(undefined, null, 0, -1, 1.5, NaN, Infinity, 'x', [], {});

const config = fc.record({
  channels: fc.oneof(
    { weight: 10, arbitrary: fc.array(fc.constantFrom(2, 4, 6, 8, 16), { minLength: 1, maxLength: 3 }) },
    { weight: 1, arbitrary: odd },
  ),
  featureSize: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(2, 3) }, { weight: 1, arbitrary: odd }),
  // Log-uniform: temperatures under 0.1, where attention weights fall below docs/computation.md
  // §3.3's 1e-8 guard, come up as often as ordinary ones.
  temperatureAttn: fc.oneof(
    { weight: 10, arbitrary: fc.double({ min: Math.log(0.01), max: Math.log(20), noNaN: true }).map(Math.exp) },
    { weight: 1, arbitrary: odd },
  ),
  temperature: fc.oneof(
    { weight: 10, arbitrary: fc.double({ min: 0.01, max: 5, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(1e-40, 0, -1, NaN) },
  ),
  matcherWeight: fc.oneof(
    { weight: 10, arbitrary: fc.double({ min: -2, max: 2, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(1e38, NaN) },
  ),
  topK: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: odd }),
  withMatcher: fc.boolean(),
  way: fc.integer({ min: 1, max: 3 }),
  extraShots: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
  queries: fc.integer({ min: 1, max: 3 }),
  scale: fc.constantFrom(1, 1e-3, 1e4),
  poison: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, 1e19, -3e38) },
  ),
  badLabels: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  lengthDelta: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default async function fuzzHead(seed: number): Promise<number> {
  const runs = runsFor(60);
  await fc.assert(
    fc.asyncProperty(config, async (c) => {
      const rnd = mulberry(c.seed);
      const channels = Array.isArray(c.channels) ? (c.channels as number[]) : [4];
      const matcher = c.withMatcher
        ? channels.map((cl) => ({
            w1: Float32Array.from({ length: (cl / 2) * cl }, () => (rnd() - 0.5) * 0.5),
            w2: Float32Array.from({ length: (cl / 2) * cl }, () => (rnd() - 0.5) * 0.5),
          }))
        : undefined;
      const options = {
        channels: c.channels as number[],
        featureSize: c.featureSize as number,
        temperatureAttn: c.temperatureAttn as number,
        temperature: c.temperature as number,
        matcherWeight: c.matcherWeight as number,
        topK: c.topK as number,
        matcher,
        device: 'cpu' as const,
      };
      let head: Head;
      try {
        head = new Head(options);
      } catch (e) {
        checkDocumentedError(e, 'new Head');
        return;
      }
      const F = head.featureSize;
      const C = channels.reduce((a, b) => a + b, 0);
      const P = F * F;
      try {
        const labels: number[] = [];
        for (let k = 0; k < c.way; k++) for (let s = 0; s <= c.extraShots[k]!; s++) labels.push(k);
        if (c.badLabels) labels[0] = c.way + 5;
        const support = Float32Array.from({ length: labels.length * C * P + c.lengthDelta }, () => (rnd() * 2 - 1) * c.scale);
        const query = Float32Array.from({ length: c.queries * C * P }, () => (rnd() * 2 - 1) * c.scale);
        if (c.poison !== undefined) query[Math.floor(rnd() * query.length)] = c.poison;
        const valid = !c.badLabels && c.lengthDelta === 0 && c.poison === undefined;
        let logits: Float32Array | undefined;
        let logitsSync: Float32Array | undefined;
        try {
          const prepared = await head.prepareSupport(support, labels);
          logits = await head.score(prepared, query);
          logitsSync = head.scoreSync(head.prepareSupportSync(support, labels), query);
        } catch (e) {
          checkDocumentedError(e, 'prepareSupport/score');
        }
        if (!valid) return;
        check(logits !== undefined && logitsSync !== undefined, 'a valid call was rejected');
        const ref = referenceLogits(
          {
            channels,
            featureSize: F,
            way: c.way,
            temperatureAttn: head.temperatureAttn,
            temperature: head.temperature,
            matcherWeight: head.matcherWeight,
            topK: head.topK,
            matcher,
          },
          support,
          labels,
          query,
        );
        check(logits.length === ref.length, `${logits.length} logits, reference ${ref.length}`);
        // float32 vs double: a pooled map that nearly cancels (2-channel taps do that: centring
        // makes their two channels opposite) loses digits, so the cosines get 1e-2 of slack.
        const tol = (1e-2 * (1 + Math.abs(head.matcherWeight) * head.topK)) / head.temperature;
        for (let i = 0; i < ref.length; i++) {
          check(Number.isFinite(logits[i]!), `logit ${i} is ${logits[i]}`);
          check(Math.abs(logits[i]! - ref[i]!) <= tol, `logit ${i}: ${logits[i]} vs reference ${ref[i]} (tolerance ${tol})`);
          check(logits[i] === logitsSync[i], `score and scoreSync differ at ${i}`);
        }
      } finally {
        head.dispose();
      }
    }),
    { seed, numRuns: runs },
  );
  return runs;
}
