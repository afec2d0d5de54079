/**
 * Head latency: 5-way 1-shot and 5-way 5-shot episodes (15 queries per class, channels
 * [512, 512], F = 3, matcher MLP), prepareSupport + score, median over repeats after warm-up;
 * the 1000-way 1-shot x 1000 queries case (ms and peak RSS, in a child process); and the
 * literal PyTorch reference (tools/reference/lwfm_head.py) on the same episodes when
 * /usr/bin/python3 has torch; and, when LWFM_AUTHORS_CODE names a checkout of
 * github.com/Halo2Tang/Code-for-LWFM-SPM, the authors' own head (Method.cca) on the same
 * episodes: its time and how far its logits are from ours.
 *
 *   node --import tsx benchmarks/head.bench.ts
 *   git clone https://github.com/Halo2Tang/Code-for-LWFM-SPM /tmp/lwfm-authors
 *   LWFM_AUTHORS_CODE=/tmp/lwfm-authors node --import tsx benchmarks/head.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argmax } from '../src/classifier/stats.js';
import { Head } from '../src/head.js';
import { headOptionsFor, makeEpisode, standardEpisodeCase, type EpisodeCase } from '../test/helpers/episode_rng.js';
import { median } from './median.js';

export type BenchRow = {
  name: string;
  ms: number;
  ratioVsOurs?: number;
  note?: string;
};

export interface HeadBenchOptions {
  /** Timed repeats per episode (median reported). Default 20. */
  repeats?: number;
  /** Untimed warm-up runs. Default 3. */
  warmup?: number;
  /** Run the 1000-way case (slow on 2 shared cores). Default true. */
  large?: boolean;
  /** Time the PyTorch reference when available. Default true. */
  reference?: boolean;
  /** Reference repeats (it is slow: seconds per episode). Default 1. */
  referenceRepeats?: number;
  /** Checkout of the authors' code to time their head against ours. Default: env LWFM_AUTHORS_CODE. */
  authorsCode?: string;
  /** Timed repeats of the authors' head. Default 7. */
  authorsRepeats?: number;
  threads?: number;
  log?: (line: string) => void;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The head benchmark's 5-way episodes (15 queries per class); the GPU benchmark uses them too. */
export function episodeCase(shots: number, seed: number): EpisodeCase {
  const labels: number[] = [];
  for (let k = 0; k < 5; k++) for (let s = 0; s < shots; s++) labels.push(k);
  return standardEpisodeCase(`5-way ${shots}-shot`, seed, labels, 75);
}

function timeEpisode(c: EpisodeCase, repeats: number, warmup: number, threads?: number) {
  const ep = makeEpisode(c);
  const head = new Head({ channels: c.channels, featureSize: c.feature_size, matcher: ep.matcher, threads, device: 'cpu' });
  const times: number[] = [];
  const stages: Record<string, number[]> = {};
  for (let r = 0; r < warmup + repeats; r++) {
    const t0 = performance.now();
    const support = head.prepareSupportSync(ep.support, c.labels);
    head.scoreSync(support, ep.query);
    const t1 = performance.now();
    support.dispose();
    if (r < warmup) continue;
    times.push(t1 - t0);
    const t = head.stageTimings();
    for (const [k, v] of Object.entries(t.prepare)) (stages[`prepare.${k}`] ??= []).push(v);
    for (const [k, v] of Object.entries(t.score)) (stages[`score.${k}`] ??= []).push(v);
  }
  head.dispose();
  const split = Object.entries(stages)
    .map(([k, v]) => [k, median(v)] as const)
    .filter(([, v]) => v >= 0.05)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  return { ms: median(times), split };
}

const referenceScript = `
import json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
import torch
torch.set_num_threads(int(sys.argv[5]))
from episode_rng import make_episode
from lwfm_head import head_logits
case = json.loads(sys.argv[3]); repeats = int(sys.argv[4])
s, q, m = make_episode(case)
args = (s, case["labels"], q, case["channels"], case["feature_size"], case["temperature_attn"],
        case["temperature"], case["matcher_weight"], case["top_k"], m)
# Warm-up on one query (library loading, allocator); the literal reference is slow, so the
# timed runs are few.
head_logits(s, case["labels"], q[:1], *args[3:], dtype=torch.float32)
times = []
for _ in range(repeats):
    t0 = time.perf_counter(); head_logits(*args, dtype=torch.float32); times.append((time.perf_counter() - t0) * 1e3)
times.sort(); print(json.dumps(dict(ms=times[len(times) // 2])))
`;

interface AuthorsRun {
  ms: number;
  maxAbsDiff: number;
  argmaxDiffers: number;
  queries: number;
}

/**
 * Runs tools/bench/authors_head.py on the episode of `c` (written as raw float32 files so both
 * sides see the same numbers) and compares its logits with ours.
 */
export function runAuthorsHead(
  c: EpisodeCase,
  checkout: string,
  repeats: number,
  threads: number,
  opts: { device?: 'cpu' | 'cuda'; python?: string } = {},
): AuthorsRun {
  const ep = makeEpisode(c);
  const dir = mkdtempSync(join(tmpdir(), 'lwfm-authors-'));
  try {
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    writeFileSync(join(dir, 'episode.json'), JSON.stringify(c));
    writeFileSync(join(dir, 'support.f32'), bytes(ep.support));
    writeFileSync(join(dir, 'query.f32'), bytes(ep.query));
    ep.matcher?.forEach((m, t) => {
      writeFileSync(join(dir, `w1_${t}.f32`), bytes(m.w1));
      writeFileSync(join(dir, `w2_${t}.f32`), bytes(m.w2));
    });
    const python = opts.python ?? '/usr/bin/python3';
    const r = spawnSync(
      python,
      [join(root, 'tools', 'bench', 'authors_head.py'), checkout, dir, String(threads), String(repeats), opts.device ?? 'cpu'],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      },
    );
    if (r.status !== 0) throw new Error(`authors' head failed: ${r.stderr.slice(-800)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; logits: number[] };
    const head = new Head({ ...headOptionsFor(c, ep.matcher), device: 'cpu' });
    try {
      const support = head.prepareSupportSync(ep.support, c.labels);
      const ours = head.scoreSync(support, ep.query);
      support.dispose();
      const way = Math.max(...c.labels) + 1;
      let maxAbsDiff = 0;
      let argmaxDiffers = 0;
      for (let q = 0; q < c.queries; q++) {
        const a = ours.subarray(q * way, (q + 1) * way);
        const b = out.logits.slice(q * way, (q + 1) * way);
        for (let k = 0; k < way; k++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k]! - b[k]!));
        if (argmax(a) !== argmax(b)) argmaxDiffers++;
      }
      return { ms: out.ms, maxAbsDiff, argmaxDiffers, queries: c.queries };
    } finally {
      head.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch, scipy'], { encoding: 'utf8' }).status === 0;
}

function timeReference(c: EpisodeCase, repeats: number, threads: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'lwfm-headref-'));
  try {
    const script = join(dir, 'ref.py');
    writeFileSync(script, referenceScript);
    const r = spawnSync(
      '/usr/bin/python3',
      [script, join(root, 'tools', 'fixtures'), join(root, 'tools', 'reference'), JSON.stringify(c), String(repeats), String(threads)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (r.status !== 0) throw new Error(`reference failed: ${r.stderr}`);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number }).ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runHeadBenchmarks(opts: HeadBenchOptions = {}): Promise<BenchRow[]> {
  const repeats = opts.repeats ?? 20;
  const warmup = opts.warmup ?? 3;
  const log = opts.log ?? (() => {});
  const rows: BenchRow[] = [];
  const ours = new Map<number, number>();
  for (const [shots, seed] of [
    [1, 11],
    [5, 55],
  ] as const) {
    const c = episodeCase(shots, seed);
    const r = timeEpisode(c, repeats, warmup, opts.threads);
    ours.set(shots, r.ms);
    rows.push({ name: `head ${c.name} (prepare + score, 75 queries)`, ms: r.ms, note: `median of ${repeats}; stages ms: ${r.split}` });
    log(`${rows.at(-1)!.name}: ${r.ms.toFixed(2)} ms (${r.split})`);
  }
  if (opts.large ?? true) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'test', 'helpers', 'large_head_case.ts'), String(opts.threads ?? 0)],
      { encoding: 'utf8', cwd: root, maxBuffer: 1 << 20 },
    );
    if (child.status === 0) {
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
        ms: number;
        prepareMs: number;
        maxRssMB: number;
        split: string;
        accuracy: number;
      };
      rows.push({
        name: 'head 1000-way 1-shot x 1000 queries (prepare + score)',
        ms: r.ms,
        note: `peak RSS ${r.maxRssMB.toFixed(0)} MB (child process, incl. Node and inputs); top-1 ${(100 * r.accuracy).toFixed(1)}% on the synthetic classes; prepare ${r.prepareMs.toFixed(0)} ms; stages ms: ${r.split}`,
      });
    } else {
      rows.push({ name: 'head 1000-way 1-shot x 1000 queries', ms: NaN, note: `failed: ${child.stderr.slice(-500)}` });
    }
    log(`${rows.at(-1)!.name}: ${rows.at(-1)!.ms.toFixed(0)} ms, ${rows.at(-1)!.note}`);
  }
  if (opts.reference ?? true) {
    if (!torchAvailable()) {
      rows.push({ name: 'reference PyTorch head', ms: NaN, note: 'skipped: /usr/bin/python3 has no torch/scipy' });
    } else {
      for (const [shots, seed] of [
        [1, 11],
        [5, 55],
      ] as const) {
        const c = episodeCase(shots, seed);
        // One torch thread: its per-pair ops are tiny, and 2 threads run them ~3x slower here.
        const ms = timeReference(c, opts.referenceRepeats ?? 1, 1);
        rows.push({
          name: `reference PyTorch head ${c.name} (tools/reference/lwfm_head.py, float32)`,
          ms,
          ratioVsOurs: ms / ours.get(shots)!,
          note: "literal per-pair docs/computation.md §3 implementation in float32 (the independent reference of the test fixtures, not the authors' batched code), 1 torch thread; after a one-query warm-up",
        });
        log(`${rows.at(-1)!.name}: ${ms.toFixed(1)} ms (${rows.at(-1)!.ratioVsOurs!.toFixed(1)}x ours)`);
      }
    }
  }
  const authors = opts.authorsCode ?? process.env.LWFM_AUTHORS_CODE;
  if (!authors) {
    const why = "skipped: set LWFM_AUTHORS_CODE to a checkout of github.com/Halo2Tang/Code-for-LWFM-SPM to time the authors' head";
    rows.push({ name: "authors' PyTorch head (Method.cca)", ms: NaN, note: why });
    log(why);
  } else if (!torchAvailable()) {
    rows.push({ name: "authors' PyTorch head (Method.cca)", ms: NaN, note: 'skipped: /usr/bin/python3 has no torch/scipy' });
  } else {
    const threads = opts.threads ?? availableParallelism();
    for (const [shots, seed] of [
      [1, 11],
      [5, 55],
    ] as const) {
      const c = episodeCase(shots, seed);
      const r = runAuthorsHead(c, authors, opts.authorsRepeats ?? 7, threads);
      rows.push({
        name: `authors' PyTorch head ${c.name} (Method.cca of Code-for-LWFM-SPM)`,
        ms: r.ms,
        ratioVsOurs: r.ms / ours.get(shots)!,
        note: `median of ${opts.authorsRepeats ?? 7} after a warm-up call, ${threads} torch threads, the same episode and matcher weights; their logits vs ours: max abs diff ${r.maxAbsDiff.toExponential(2)}, argmax differs for ${r.argmaxDiffers} of ${r.queries} queries`,
      });
      log(`${rows.at(-1)!.name}: ${r.ms.toFixed(1)} ms (${rows.at(-1)!.ratioVsOurs!.toFixed(1)}x ours); ${rows.at(-1)!.note}`);
    }
  }
  return rows;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const rows = await runHeadBenchmarks({ log: (l) => console.error(l) });
  console.table(rows.map((r) => ({ ...r, ms: Number.isFinite(r.ms) ? Number(r.ms.toFixed(2)) : r.ms })));
}
