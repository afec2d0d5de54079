/**
 * `lwfm-spm bench head`: one N-way K-shot episode of the LWFM-SPM head on random features
 * (prepare the support set + score the queries), on the CPU engine, with the engine's own
 * per-stage split.
 */
import { Head } from '../../head.js';
import { fillGaussian, median, rng } from './numbers.js';

export interface HeadBenchOptions {
  way: number;
  shot: number;
  /** Queries per episode (all classes together). */
  queries: number;
  channels: number[];
  featureSize: number;
  /** Random matcher MLPs (one per tap), as a trained model has. */
  matcher: boolean;
  threads: number;
  repeats: number;
}

export interface HeadBenchResult {
  /** Median milliseconds of prepareSupport + score. */
  totalMs: number;
  prepareMs: number;
  scoreMs: number;
  /**
   * Median milliseconds per engine stage ("prepare.<stage>", "score.<stage>") as the native engine
   * reports them (stages that took no time left out), plus "prepare.unattributed" and
   * "score.unattributed": the rest of each call (thread hand-offs, allocation, the binding).
   */
  stages: Record<string, number>;
  pairs: number;
}

/** Times `repeats` episodes after two untimed ones; medians per stage. */
export function runHeadBench(o: HeadBenchOptions): HeadBenchResult {
  const c = o.channels.reduce((a, b) => a + b, 0);
  const p = o.featureSize * o.featureSize;
  const uniform = rng(20241109);
  const support = fillGaussian(new Float32Array(o.way * o.shot * c * p), uniform);
  const query = fillGaussian(new Float32Array(o.queries * c * p), uniform);
  const labels = Array.from({ length: o.way * o.shot }, (_, i) => Math.floor(i / o.shot));
  const matcher = o.matcher
    ? o.channels.map((ch) => {
        const h = Math.max(1, Math.floor(ch / 2));
        const scale = (fanIn: number, a: Float32Array): Float32Array => a.map((v) => v * Math.sqrt(2 / fanIn));
        return {
          w1: scale(ch, fillGaussian(new Float32Array(h * ch), uniform)),
          w2: scale(h, fillGaussian(new Float32Array(ch * h), uniform)),
        };
      })
    : undefined;
  const head = new Head({ channels: o.channels, featureSize: o.featureSize, matcher, threads: o.threads, device: 'cpu' });
  try {
    const prepare: number[] = [];
    const score: number[] = [];
    const stages: Record<string, number[]> = {};
    for (let r = 0; r < 2 + o.repeats; r++) {
      const t0 = performance.now();
      const prepared = head.prepareSupportSync(support, labels);
      const t1 = performance.now();
      head.scoreSync(prepared, query);
      const t2 = performance.now();
      prepared.dispose();
      if (r < 2) continue;
      prepare.push(t1 - t0);
      score.push(t2 - t1);
      const t = head.stageTimings();
      for (const [k, v] of Object.entries(t.prepare)) (stages[`prepare.${k}`] ??= []).push(v);
      for (const [k, v] of Object.entries(t.score)) (stages[`score.${k}`] ??= []).push(v);
    }
    const totals = prepare.map((v, i) => v + score[i]!);
    const split = Object.fromEntries(
      Object.entries(stages)
        .map(([k, v]) => [k, median(v)] as const)
        .filter(([, v]) => v > 0),
    );
    const prepareMs = median(prepare);
    const scoreMs = median(score);
    const attributed = (prefix: string): number => Object.entries(split).reduce((s, [k, v]) => (k.startsWith(prefix) ? s + v : s), 0);
    split['prepare.unattributed'] = Math.max(0, prepareMs - attributed('prepare.'));
    split['score.unattributed'] = Math.max(0, scoreMs - attributed('score.'));
    return { totalMs: median(totals), prepareMs, scoreMs, stages: split, pairs: o.queries * o.way * o.shot };
  } finally {
    head.dispose();
  }
}
