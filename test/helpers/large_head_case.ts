/**
 * The 1000-way 1-shot x 1000 queries case (channels [512, 512], P = 9, matcher MLP), run in a
 * child process so its peak RSS can be read from process.resourceUsage().maxRSS.
 *   node --import tsx test/helpers/large_head_case.ts [threads]
 * prints one JSON line: { ms, prepareMs, maxRssMB, finite, accuracy, split }.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Head } from '../../src/head.js';
import { makeEpisode, standardEpisodeCase } from './episode_rng.js';

export interface LargeCaseResult {
  ms: number;
  prepareMs: number;
  maxRssMB: number;
  finite: boolean;
  accuracy: number;
  split: string;
}

export async function runLargeCase(threads?: number, way = 1000, queries = 1000): Promise<LargeCaseResult> {
  const c = standardEpisodeCase(
    `${way}-way 1-shot`,
    4242,
    Array.from({ length: way }, (_, i) => i),
    queries,
  );
  const ep = makeEpisode(c);
  const head = new Head({ channels: c.channels, matcher: ep.matcher, threads, device: 'cpu' }); // measures the CPU engine's memory
  const t0 = performance.now();
  const support = await head.prepareSupport(ep.support, c.labels);
  const t1 = performance.now();
  const logits = await head.score(support, ep.query);
  const t2 = performance.now();
  let finite = logits.length === queries * way;
  let correct = 0;
  for (let q = 0; q < queries; q++) {
    let best = 0;
    for (let k = 0; k < way; k++) {
      const v = logits[q * way + k]!;
      if (!Number.isFinite(v)) finite = false;
      if (v > logits[q * way + best]!) best = k;
    }
    if (best === q % way) correct++;
  }
  const t = head.stageTimings();
  const split = [
    ...Object.entries(t.prepare).map(([k, v]) => [`prepare.${k}`, v] as const),
    ...Object.entries(t.score).map(([k, v]) => [`score.${k}`, v] as const),
  ]
    .filter(([, v]) => v >= 1)
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
  head.dispose();
  return { ms: t2 - t0, prepareMs: t1 - t0, maxRssMB: process.resourceUsage().maxRSS / 1024, finite, accuracy: correct / queries, split };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const threads = Number(process.argv[2]) || undefined;
  console.log(JSON.stringify(await runLargeCase(threads)));
}
