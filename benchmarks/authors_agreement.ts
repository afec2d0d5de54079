/**
 * Our logits against the authors' own head (Method.cca of github.com/Halo2Tang/Code-for-LWFM-SPM)
 * on episodes that vary every hyperparameter their code supports: tap count and widths,
 * feature size, shots, no matcher MLP, matcherWeight 0 and 1, temperatures. npm test checks
 * the same configurations against an independent PyTorch implementation of docs/computation.md
 * (tools/reference); this checks the code the paper's numbers came from, which CI cannot fetch.
 *
 *   git clone https://github.com/Halo2Tang/Code-for-LWFM-SPM /tmp/lwfm-authors
 *   LWFM_AUTHORS_CODE=/tmp/lwfm-authors node --import tsx benchmarks/authors_agreement.ts
 */
import { standardEpisodeCase, type EpisodeCase } from '../test/helpers/episode_rng.js';
import { runAuthorsHead } from './head.bench.js';

const checkout = process.env.LWFM_AUTHORS_CODE;
if (!checkout) {
  console.error('LWFM_AUTHORS_CODE is not set: point it at a checkout of github.com/Halo2Tang/Code-for-LWFM-SPM');
  process.exit(2);
}

const labels = (way: number, shots: number): number[] => Array.from({ length: way * shots }, (_, i) => Math.floor(i / shots));
const episode = (
  name: string,
  seed: number,
  way: number,
  shots: number,
  queries: number,
  change: Partial<EpisodeCase> = {},
): EpisodeCase => ({
  ...standardEpisodeCase(name, seed, labels(way, shots), queries),
  ...change,
});

const cases: EpisodeCase[] = [
  episode('5-way 1-shot, taps [512, 512], F = 3, MLP', 11, 5, 1, 75),
  episode('5-way 5-shot, taps [512, 512], F = 3, MLP', 55, 5, 5, 75),
  episode('5-way 1-shot, 4 taps [64, 128, 256, 512]', 3, 5, 1, 20, { channels: [64, 128, 256, 512] }),
  episode('5-way 2-shot, F = 5, taps [64, 128]', 4, 5, 2, 20, { channels: [64, 128], feature_size: 5 }),
  episode('5-way 1-shot, no matcher MLP', 5, 5, 1, 20, { matcher: false }),
  episode('5-way 5-shot, matcherWeight 0', 6, 5, 5, 20, { matcher_weight: 0 }),
  episode('10-way 1-shot, matcherWeight 1, T_attn 2, T 0.1', 7, 10, 1, 30, { matcher_weight: 1, temperature_attn: 2, temperature: 0.1 }),
];

let worst = 0;
let flips = 0;
for (const c of cases) {
  const r = runAuthorsHead(c, checkout, 1, 2);
  worst = Math.max(worst, r.maxAbsDiff);
  flips += r.argmaxDiffers;
  console.log(
    `${c.name}: max abs logit diff ${r.maxAbsDiff.toExponential(2)}, argmax differs for ${r.argmaxDiffers} of ${r.queries} queries`,
  );
}
console.log(`worst ${worst.toExponential(2)}; ${flips} argmax differences`);
process.exitCode = worst <= 1e-4 && flips === 0 ? 0 : 1;
