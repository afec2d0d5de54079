// A/B of two builds of the addon on the async entries, in alternating rounds (robust on shared
// cores): used to measure what copying the inputs at submission (issue 11) costs. Build the
// "before" addon from an older commit (git worktree add /tmp/old <commit> && cd /tmp/old &&
// npx node-gyp rebuild), then:
//   BEFORE=/tmp/old/build/Release/lwfm_spm.node AFTER=build/Release/lwfm_spm.node \
//     node --import tsx benchmarks/input_copy_ab.ts [rounds]
import { createRequire } from 'node:module';
import type { NativeBinding, NativeHeadOptions } from '../src/binding.js';
import { makeEpisode, standardEpisodeCase } from '../test/helpers/episode_rng.js';
import { rng } from '../test/helpers/seeded_rng.js';
import { median } from './median.js';

const require = createRequire(import.meta.url);
const before = require(process.env.BEFORE ?? '') as NativeBinding;
const after = require(process.env.AFTER ?? '') as NativeBinding;
const rounds = Number(process.argv[2] ?? 15);

async function ab(name: string, make: (m: NativeBinding) => () => Promise<unknown>): Promise<void> {
  const runs = [make(before), make(after)];
  for (const run of runs) await run(); // warm-up (and the copy pool's first block)
  const ms: number[][] = [[], []];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of runs.entries()) {
      const t0 = performance.now();
      await run();
      ms[k]!.push(performance.now() - t0);
    }
    ratios.push(ms[1]!.at(-1)! / ms[0]!.at(-1)!);
  }
  console.log(`| ${name} | ${median(ms[0]!).toFixed(2)} | ${median(ms[1]!).toFixed(2)} | ${median(ratios).toFixed(2)} |`);
}

console.log(`| Call | before (ms) | after (ms) | after / before, median of ${rounds} alternating rounds |\n| --- | --- | --- | --- |`);
for (const [n, batches] of [
  [9, [10_000, 100_000]],
  [49, [1_000, 10_000]],
] as const) {
  for (const batch of batches) {
    const random = rng(n + batch);
    const costs = new Float32Array(batch * n * n).map(() => random());
    const mb = (costs.byteLength / 2 ** 20) | 0 || '<1';
    for (const threads of [1, 2]) {
      await ab(
        `solveAssignments ${batch} x ${n}x${n} (${mb} MB), ${threads} thread(s)`,
        (m) => () => m.solveAssignments(costs, batch, n, n, false, threads),
      );
    }
  }
}
for (const [shots, queries] of [
  [1, 75],
  [5, 75],
  [5, 1000],
] as const) {
  const labels = Array.from({ length: 5 * shots }, (_, i) => i % 5);
  const episode = makeEpisode(standardEpisodeCase('copy a/b', 1, labels, queries));
  const options: NativeHeadOptions = {
    channels: [512, 512],
    featureSize: 3,
    temperatureAttn: 5,
    temperature: 0.2,
    matcherWeight: 0.25,
    topK: 1,
    matcher: episode.matcher,
    threads: 2,
  };
  const packed = Int32Array.from(labels);
  await ab(`Head.prepareSupport 5-way ${shots}-shot`, (m) => {
    const head = m.headCreate(options);
    return () => m.headPrepareSupport(head, episode.support, packed);
  });
  const mb = (episode.query.byteLength / 2 ** 20).toFixed(1);
  await ab(`Head.score 5-way ${shots}-shot, ${queries} queries (${mb} MB)`, (m) => {
    const head = m.headCreate(options);
    const support = m.headPrepareSupportSync(head, episode.support, packed);
    return () => m.headScore(head, support, episode.query);
  });
}
