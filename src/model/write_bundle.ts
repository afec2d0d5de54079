/**
 * Writes model bundles from weights: one path for the default model, the converter and
 * pretrained downloads, so every bundle's graph comes from the same TypeScript writer.
 * A bundle is assembled in a temporary sibling directory, validated by loadBundle, and only
 * then renamed to its place, so a failed build never leaves a directory that looks usable.
 */
import { once } from 'node:events';
import { lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { siblingModule, spawnModuleWorker } from '../backbone/spawn_worker.js';
import { LwfmError, ModelBundleError } from '../errors.js';
import { BACKBONE_ONNX, loadBundle, MATCHER_SAFETENSORS, MODEL_JSON, type ModelBundle } from './bundle.js';
import type { BackboneBuildJob, BackboneBuildReply } from './backbone_build_worker.js';
import { validateModelConfig, type ModelConfig } from './config.js';
import { writeSafetensors, type NamedTensor } from './safetensors.js';

/**
 * Runs one backbone build in a worker thread; resolves to the worker's reply.
 * @example const reply = await runBackboneBuild({ out: 'backbone.onnx', arch: 'resnet18', taps: [7, 8], featureSize: 3, pooling: 'average', crop: 84, producerVersion: '1.0.0' });
 */
export async function runBackboneBuild(job: BackboneBuildJob): Promise<BackboneBuildReply> {
  const transfer = job.weights ? [job.weights.buffer as ArrayBuffer] : [];
  const worker = spawnModuleWorker(siblingModule(import.meta.url, 'backbone_build_worker'), { workerData: job, transferList: transfer });
  try {
    const [msg] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e as Error))])) as [
      BackboneBuildReply,
    ];
    return msg;
  } finally {
    await worker.terminate();
  }
}

/** A copy of `bytes` that owns its whole ArrayBuffer, so it can be transferred to a worker. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes
    : new Uint8Array(bytes);
}

export interface WriteBundleOptions {
  /** model.json contents (validated here). */
  config: ModelConfig;
  /** safetensors bytes of the backbone in torchvision/timm names. */
  weights: Uint8Array;
  /** The file the weights came from, named in errors. */
  weightsFile: string;
  /** Matcher MLPs as `matcher.{t}.w1` / `.w2` tensors; absent = no matcher. */
  matcher?: ReadonlyMap<string, NamedTensor>;
  /** Bundle directory to create. */
  out: string;
  /** Replace an existing `out` (else an existing path is an error). */
  force?: boolean;
}

/**
 * Checks that `out` can be written: a missing path is fine, an existing directory needs
 * `force`, anything else (a file) is an error naming it.
 * @example await checkOutputDir('./models/r18', false);
 */
export async function checkOutputDir(out: string, force: boolean): Promise<void> {
  let st;
  try {
    st = await lstat(out);
  } catch {
    return;
  }
  if (!st.isDirectory()) throw new ModelBundleError(out, 'exists and is not a directory; choose another output path');
  if (!force) throw new ModelBundleError(out, 'already exists; pass --force (API: force: true) to replace it');
}

/** Moves a finished bundle from `tmp` to `out`, replacing `out` only when `force` allowed it. */
async function publish(tmp: string, out: string, force: boolean): Promise<void> {
  await checkOutputDir(out, force);
  if (force) await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
}

/**
 * Builds a bundle directory from backbone weights and model.json settings: BatchNorm is
 * folded, the graph written by the TypeScript writer in a worker thread, the result
 * validated, then renamed into place. Throws ModelBundleError naming the weights file for
 * missing or misshapen tensors and the output path when it exists (without `force`).
 * @example
 * const bundle = await writeBundle({ config, weights: await readFile('resnet18.safetensors'), weightsFile: 'resnet18.safetensors', out: './r18' });
 */
export async function writeBundle(opts: WriteBundleOptions): Promise<ModelBundle> {
  const out = resolve(opts.out);
  const config = validateModelConfig(opts.config, join(out, MODEL_JSON));
  await checkOutputDir(out, opts.force === true);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await mkdir(tmp);
    const reply = await runBackboneBuild({
      out: join(tmp, BACKBONE_ONNX),
      arch: config.arch,
      taps: config.taps,
      featureSize: config.featureSize,
      pooling: config.pooling,
      crop: config.crop,
      producerVersion: config.provenance.converterVersion,
      weights: ownBuffer(opts.weights),
    });
    if (!reply.ok) {
      if (reply.kind === 'weights') throw new ModelBundleError(opts.weightsFile, reply.message);
      throw new LwfmError(`building backbone.onnx failed: ${reply.message}`, 'ERR_LWFM_INTERNAL');
    }
    if (opts.matcher)
      await writeFile(join(tmp, MATCHER_SAFETENSORS), writeSafetensors(opts.matcher, { taps: JSON.stringify(config.taps) }));
    await writeFile(join(tmp, MODEL_JSON), `${JSON.stringify(config, null, 2)}\n`);
    await loadBundle(tmp);
    await publish(tmp, out, opts.force === true);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return loadBundle(out);
}
