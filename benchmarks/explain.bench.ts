/**
 * Explanations: classifier.explain of one query against a 5-way 5-shot support set on the
 * default model (decode + backbone + head with every term recorded), and renderExplanation's
 * PNG, medians after warm-up; next to classify() of the same query in the same rounds (what a
 * prediction alone costs). And the head alone: score() of a 5-way 5-shot episode against
 * explain() of one of its queries, so the price of recording the terms is visible.
 *
 *   node --import tsx benchmarks/explain.bench.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FewShotClassifier, renderExplanation } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { Head } from '../src/head.js';
import { headOptionsFor, makeEpisode } from '../test/helpers/episode_rng.js';
import { episodeCase } from './head.bench.js';
import { median } from './median.js';
import type { Row } from './render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function runExplainBenchmarks(repeats = 15): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lwfm-explain-bench-'));
  try {
    execFileSync(process.execPath, [join(root, 'tools', 'make_samples.mjs'), join(dir, 'data')], { stdio: 'pipe' });
    const folder = scanImageFolder(join(dir, 'data')).classes.slice(0, 5);
    const support = folder.flatMap((c) => c.files.slice(0, 5));
    const labels = folder.flatMap((c) => c.files.slice(0, 5).map(() => c.name));
    const query = folder[0]!.files[6]!;
    const classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
    try {
      await classifier.setSupport(support, labels);
      const t = { classify: [] as number[], explain: [] as number[], render: [] as number[] };
      for (let r = 0; r < repeats + 3; r++) {
        const c = await timed(() => classifier.classify([query]));
        let ex: Awaited<ReturnType<FewShotClassifier['explain']>> | undefined;
        const e = await timed(async () => (ex = await classifier.explain(query, { topClasses: 3 })));
        const p = await timed(() => renderExplanation(ex!, { width: 960 }));
        if (r < 3) continue; // warm-up
        t.classify.push(c);
        t.explain.push(e);
        t.render.push(p);
      }
      const explainMs = median(t.explain);
      const renderMs = median(t.render);
      const rows: Row[] = [
        { what: 'classify() of 1 query, 5-way 5-shot, default model', ms: median(t.classify), note: 'decode + backbone + head' },
        { what: 'explain() of the same query (top 3 classes)', ms: explainMs, note: 'decode + backbone + head with terms' },
        { what: 'renderExplanation() PNG, width 960', ms: renderMs },
        { what: 'explain + PNG (target < 50 ms)', ms: explainMs + renderMs },
      ];
      const ep = makeEpisode(episodeCase(5, 7));
      const head = new Head({ ...headOptionsFor(episodeCase(5, 7), ep.matcher), device: 'cpu', threads: 2 });
      const prepared = await head.prepareSupport(ep.support, episodeCase(5, 7).labels);
      const h = { score: [] as number[], explain: [] as number[] };
      const one = ep.query.subarray(0, head.imageSize);
      for (let r = 0; r < repeats * 4 + 5; r++) {
        const s = await timed(() => head.score(prepared, one));
        const e = await timed(() => head.explain(prepared, one));
        if (r < 5) continue;
        h.score.push(s);
        h.explain.push(e);
      }
      rows.push(
        { what: 'Head.score, 1 query vs 5-way 5-shot (channels 512+512, MLP)', ms: median(h.score) },
        { what: 'Head.explain, same query', ms: median(h.explain), note: `${(median(h.explain) / median(h.score)).toFixed(2)}x score` },
      );
      prepared.dispose();
      head.dispose();
      return rows;
    } finally {
      await classifier.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { markdownTable } = await import('./render.js');
  process.stdout.write(markdownTable(await runExplainBenchmarks()));
}
