/**
 * Where a 5-way episode's time goes when the head runs on the GPU from Node: the CUDA
 * support's asynchronous and synchronous prepare, its first and a repeated score, dispose,
 * and Head({ device: 'cuda' }) end to end. A diagnostic for GPU machines (prints "no GPU"
 * elsewhere); medians of 22 after 3 warm-ups.
 *   node --import tsx benchmarks/cuda_head_breakdown.ts
 */
import { cudaInfo } from '../src/cuda.js';
import { prepareCudaSupport, prepareCudaSupportAsync } from '../src/cuda_head.js';
import { Head } from '../src/head.js';
import { headOptionsFor, makeEpisode } from '../test/helpers/episode_rng.js';
import { episodeCase } from './head.bench.js';
import { median } from './median.js';

const info = cudaInfo();
if (!info.available) {
  console.log(`no GPU: ${info.reason ?? 'no CUDA device'}`);
  process.exit(0);
}
for (const [shots, seed] of [
  [1, 11],
  [5, 55],
] as const) {
  const c = episodeCase(shots, seed);
  const ep = makeEpisode(c);
  const options = headOptionsFor(c, ep.matcher);
  const times: Record<string, number[]> = {};
  const lap = (name: string, t0: number): void => void (times[name] ??= []).push(performance.now() - t0);
  for (let r = 0; r < 25; r++) {
    let t0 = performance.now();
    const support = await prepareCudaSupportAsync(options, ep.support, c.labels);
    lap('prepare (async)', t0);
    t0 = performance.now();
    await support.score(ep.query);
    lap('first score', t0);
    t0 = performance.now();
    await support.score(ep.query);
    lap('second score', t0);
    t0 = performance.now();
    support.dispose();
    lap('dispose', t0);
    t0 = performance.now();
    prepareCudaSupport(options, ep.support, c.labels).dispose();
    lap('prepare + dispose (sync, main thread)', t0);
    const head = new Head({ ...options, device: 'cuda' });
    t0 = performance.now();
    const prepared = await head.prepareSupport(ep.support, c.labels);
    await head.score(prepared, ep.query);
    lap('Head prepare + score', t0);
    prepared.dispose();
    head.dispose();
  }
  const line = Object.entries(times).map(([name, v]) => `${name} ${median(v.slice(3)).toFixed(3)} ms`);
  console.log(`${c.name}: ${line.join(', ')}`);
}
