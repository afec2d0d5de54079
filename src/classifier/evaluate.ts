/**
 * Few-shot evaluation: seeded N-way K-shot episodes from an ImageFolder, each embedded in
 * one backbone batch and scored by the head, summarised as mean accuracy +- 95% CI.
 * Unreadable images are skipped and their episode redrawn; a failed backbone worker is
 * not an unreadable image (its batch is retried once, then the run fails with it).
 */
import type { EmbedBatch } from '../backbone/types.js';
import { BackboneError, type ImageDecodeError } from '../errors.js';
import { expectedMessage } from '../validate.js';
import { checkEvaluateOptions } from './checks.js';
import { EpisodeSampler, type Episode } from './episodes.js';
import { scanImageFolder } from './image_folder.js';
import { asImageError } from './inputs.js';
import { rows } from './orchestration.js';
import type { EngineRuntime } from './runtime.js';
import { argmax, ci95, mean } from './stats.js';
import { addTimings, since, zeroTimings } from './timings.js';
import type { EvaluateOptions, EvaluateResult } from './types.js';

/** Runs `evaluate` on the runtime's engine. */
export async function evaluateFolder(rt: EngineRuntime, datasetDir: string, options?: EvaluateOptions): Promise<EvaluateResult> {
  const start = performance.now();
  if (typeof datasetDir !== 'string' || datasetDir.length === 0) {
    throw new TypeError(expectedMessage('dataset directory path', 'datasetDir', datasetDir));
  }
  const opts = checkEvaluateOptions(options);
  const folder = scanImageFolder(datasetDir);
  const sampler = new EpisodeSampler(folder, opts, opts.seed);
  const { head } = rt.engine;
  const accuracies: number[] = [];
  const timings = zeroTimings();
  let embedMs = 0;
  const embedOnce = async (files: string[]): Promise<EmbedBatch> => {
    const t = performance.now();
    const raw = await rt.run(rt.engine.backbone.embed(files), opts.signal);
    embedMs += since(t);
    rt.alive();
    return raw;
  };
  const embedEpisode = async (episode: Episode): Promise<{ files: string[]; raw: EmbedBatch }> => {
    const files = [...episode.support, ...episode.query].map((x) => x.file);
    let raw = await embedOnce(files);
    // A failed backbone worker says nothing about the images (and skipping them would bias
    // the episodes): run the batch again on the replaced worker, and stop if it fails again.
    if (raw.errors.some((e) => e instanceof BackboneError)) {
      raw = await embedOnce(files);
      const again = raw.errors.find((e) => e instanceof BackboneError);
      if (again) throw again;
    }
    return { files, raw };
  };
  for (let e = 0; e < opts.episodes; e++) {
    opts.signal?.throwIfAborted();
    // Redraw until an episode has no unreadable image; each failure shrinks the pool,
    // and the sampler throws a DatasetError once a class gets too small.
    let episode = sampler.next();
    let { files, raw } = await embedEpisode(episode);
    for (let bad = failedFiles(raw, files); bad.length > 0; bad = failedFiles(raw, files)) {
      for (const { file, error } of bad)
        opts.onWarning(`Skipping unreadable image ${file}: ${error.message}`, asImageError(error, file) as ImageDecodeError);
      sampler.exclude(bad.map((b) => b.file));
      episode = sampler.next();
      ({ files, raw } = await embedEpisode(episode));
    }
    const s = episode.support.length;
    const q = episode.query.length;
    const headStart = performance.now();
    const prepared = await rt.run(
      head.prepareSupport(
        rows(raw, 0, s),
        Int32Array.from(episode.support, (x) => x.label),
        { stable: true },
      ),
    );
    let logits: Float32Array;
    try {
      logits = await rt.run(head.score(prepared, rows(raw, s, s + q)));
    } finally {
      prepared.dispose();
    }
    const headMs = since(headStart);
    rt.alive();
    let correct = 0;
    const way = episode.classes.length;
    episode.query.forEach((image, i) => {
      if (argmax(logits.subarray(i * way, (i + 1) * way)) === image.label) correct++;
    });
    accuracies.push(correct / q);
    addTimings(timings, { embed: 0, head: headMs, other: 0, total: 0, decode: raw.timings.decode, backbone: raw.timings.backbone });
    if (opts.onProgress) {
      const elapsedMs = since(start);
      const done = e + 1;
      const rate = done / (elapsedMs / 1000);
      opts.onProgress({
        done,
        episodes: opts.episodes,
        accuracy: mean(accuracies),
        elapsedMs,
        rate,
        etaMs: ((opts.episodes - done) / rate) * 1000,
      });
    }
  }
  // Wall-clock stages that add up: the embed calls (redraws included), the head, the rest.
  timings.total = since(start);
  timings.embed = embedMs;
  timings.other = Math.max(0, timings.total - embedMs - timings.head);
  const n = opts.episodes;
  return {
    accuracy: mean(accuracies),
    ci95: ci95(accuracies),
    episodes: n,
    way: opts.way,
    shot: opts.shot,
    query: opts.query,
    seed: opts.seed,
    episodeAccuracies: accuracies,
    timings,
    perEpisode: {
      embed: timings.embed / n,
      head: timings.head / n,
      other: timings.other / n,
      total: timings.total / n,
      decode: timings.decode / n,
      backbone: timings.backbone / n,
    },
    overhead: { embedMs, headAndGlueMs: timings.total - embedMs, fraction: (timings.total - embedMs) / embedMs },
    skippedImages: [...sampler.excluded],
    unsupportedFiles: folder.skipped,
  };
}

/** The images of a batch that failed, with their errors. */
function failedFiles(raw: EmbedBatch, files: string[]): { file: string; error: Error }[] {
  const out: { file: string; error: Error }[] = [];
  raw.errors.forEach((error, i) => {
    if (error) out.push({ file: files[i]!, error });
  });
  return out;
}
