/**
 * int8 bundles: `quantizeBundle(from, out)` turns any fp32 bundle (default model,
 * converted checkpoint, pretrained build) into one whose backbone.onnx is a QDQ graph
 * that ONNX Runtime runs with int8 kernels (see plan.ts, qdq.ts, calibrate.ts). The
 * head, matcher weights and every hyperparameter are unchanged; model.json gains
 * `precision: 'int8'` and `quantization` (method, percentile, calibration set size and hash).
 */
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetError } from '../../classifier/dataset_error.js';
import { isImageFile } from '../../classifier/image_folder.js';
import { ModelBundleError } from '../../errors.js';
import { expectOptions, expectPositiveInteger, expectedMessage } from '../../validate.js';
import { siblingModule, spawnModuleWorker } from '../../backbone/spawn_worker.js';
import { createExitControl, unwatchExit, watchExit } from '../../backbone/exit_guard.js';
import { BACKBONE_ONNX, MATCHER_SAFETENSORS, MODEL_JSON, loadBundle, type ModelBundle } from '../bundle.js';
import { DEFAULT_PERCENTILE } from './calibrate.js';
import type { QuantizationInfo } from './info.js';
import type { QuantizeJob } from './quantize_worker.js';

/** Fewest calibration images accepted: fewer leave the activation ranges to chance. */
export const MIN_CALIBRATION_IMAGES = 32;
/** Default cap on calibration images (an evenly spaced subset of a larger set is used). */
export const DEFAULT_MAX_CALIBRATION_IMAGES = 256;
/** The package's bundled sample images (this file is src/model/quantize or dist/model/quantize). */
export const SAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'samples');

/**
 * Options of {@link quantizeBundle}.
 * @example
 * const options: QuantizeOptions = { calibrate: './my-domain-images', percentile: 99.99 };
 */
export interface QuantizeOptions {
  /**
   * Calibration images of the user's domain: a directory (searched recursively) or a list
   * of files, at least 32 images. Default: the bundled samples, with a warning, since
   * images of the domain calibrate better.
   */
  calibrate?: string | readonly string[];
  /** Histogram percentile of the activation ranges, in (50, 100] (default 99.99). */
  percentile?: number;
  /** At most this many calibration images (evenly spaced over the sorted set; default 256). */
  maxImages?: number;
  /** ONNX Runtime threads for the calibration runs (default: hardware threads). */
  threads?: number;
  /** Receives the warning about default calibration images (default: process.emitWarning). */
  onWarning?: (message: string) => void;
}

async function walkImages(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkImages(p, out);
    else if ((e.isFile() || e.isSymbolicLink()) && isImageFile(e.name)) out.push(p);
  }
}

/** Calibration files, sorted by path, thinned evenly to `max`. */
async function calibrationFiles(source: string | readonly string[], max: number): Promise<string[]> {
  let files: string[];
  if (typeof source === 'string') {
    const dir = resolve(source);
    let isDir: boolean;
    try {
      isDir = (await stat(dir)).isDirectory();
    } catch (e) {
      throw new DatasetError(
        dir,
        `calibration directory does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause: e },
      );
    }
    if (!isDir) throw new DatasetError(dir, 'calibration path is not a directory');
    files = [];
    await walkImages(dir, files);
  } else files = source.map((f) => resolve(f));
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length < MIN_CALIBRATION_IMAGES) {
    const where = typeof source === 'string' ? `in ${resolve(source)}` : 'in the list';
    throw new RangeError(`Expected at least ${MIN_CALIBRATION_IMAGES} calibration images but received ${files.length} ${where}`);
  }
  if (files.length <= max) return files;
  return Array.from({ length: max }, (_, i) => files[Math.floor((i * files.length) / max)]!);
}

function checkOptions(opts: unknown): {
  calibrate?: string | readonly string[];
  percentile: number;
  maxImages: number;
  threads: number;
  onWarning: (m: string) => void;
} {
  const o = expectOptions(opts, 'opts');
  const c = o.calibrate;
  if (
    c !== undefined &&
    !(typeof c === 'string' && c.length > 0) &&
    !(Array.isArray(c) && c.every((f) => typeof f === 'string' && f.length > 0))
  ) {
    throw new TypeError(expectedMessage('calibration directory path or array of image paths', 'opts.calibrate', c));
  }
  const p = o.percentile ?? DEFAULT_PERCENTILE;
  if (typeof p !== 'number' || !(p > 50 && p <= 100)) throw new RangeError(expectedMessage('number in (50, 100]', 'opts.percentile', p));
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function')
    throw new TypeError(expectedMessage('function', 'opts.onWarning', o.onWarning));
  return {
    calibrate: c as string | readonly string[] | undefined,
    percentile: p,
    maxImages: o.maxImages === undefined ? DEFAULT_MAX_CALIBRATION_IMAGES : expectPositiveInteger(o.maxImages, 'opts.maxImages', 100_000),
    threads: o.threads === undefined ? availableParallelism() : expectPositiveInteger(o.threads, 'opts.threads', 1024),
    onWarning: (o.onWarning as (m: string) => void) ?? ((m: string) => process.emitWarning(m, { code: 'LWFM_CALIBRATION_SAMPLES' })),
  };
}

/**
 * Writes an int8 copy of the fp32 bundle `from` into `out` (created if needed; its
 * model.json, backbone.onnx and matcher.safetensors are replaced) and returns it loaded.
 * @example
 * const int8 = await quantizeBundle('./my-model', './my-model-int8', { calibrate: './domain-images' });
 * await FewShotClassifier.load(int8.dir);
 */
export async function quantizeBundle(from: string, out: string, opts?: QuantizeOptions): Promise<ModelBundle> {
  if (typeof from !== 'string' || from.length === 0) throw new TypeError(expectedMessage('bundle directory path', 'from', from));
  if (typeof out !== 'string' || out.length === 0) throw new TypeError(expectedMessage('output directory path', 'out', out));
  const o = checkOptions(opts);
  const source = await loadBundle(from);
  if (source.config.precision === 'int8')
    throw new ModelBundleError(join(source.dir, MODEL_JSON), 'is already an int8 bundle; quantize its fp32 original instead');
  const outDir = resolve(out);
  if (outDir === source.dir) throw new RangeError(`Expected an output directory other than the fp32 bundle but received ${outDir}`);
  if (o.calibrate === undefined) {
    o.onWarning(
      `calibrating int8 activations on the bundled sample images; images of your own domain (--calibrate DIR, at least ${MIN_CALIBRATION_IMAGES}) calibrate better`,
    );
  }
  const files = await calibrationFiles(o.calibrate ?? SAMPLES_DIR, o.maxImages);
  await mkdir(outDir, { recursive: true });
  const tmp = join(outDir, `.${BACKBONE_ONNX}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const c = source.config;
  const job: QuantizeJob = {
    fp32Path: source.backbonePath,
    outPath: tmp,
    files,
    spec: { resize: c.resize, crop: c.crop, mean: c.mean, std: c.std },
    percentile: o.percentile,
    threads: o.threads,
    producerVersion: c.provenance.converterVersion,
  };
  try {
    // Process exit waits for the worker's ONNX Runtime calls (src/backbone/exit_guard.ts).
    const exitControl = createExitControl();
    const worker = spawnModuleWorker(siblingModule(import.meta.url, 'quantize_worker'), { workerData: { ...job, exitControl } });
    watchExit(exitControl);
    let msg: { ok: boolean; error?: string; sha256?: string };
    try {
      [msg] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))])) as [typeof msg];
    } finally {
      // It has replied or died: no native call of it is in flight.
      await worker.terminate();
      unwatchExit(exitControl);
    }
    if (!msg.ok) throw new ModelBundleError(source.backbonePath, `cannot be quantized: ${msg.error}`);
    const quantization: QuantizationInfo = {
      weights: 'int8-symmetric-per-channel',
      activations: 'uint8-asymmetric-per-tensor',
      method: 'percentile',
      percentile: o.percentile,
      calibrationImages: files.length,
      calibrationSha256: msg.sha256!,
      calibrationSource:
        o.calibrate === undefined ? 'bundled samples' : typeof o.calibrate === 'string' ? resolve(o.calibrate) : 'file list',
    };
    await rename(tmp, join(outDir, BACKBONE_ONNX));
    if (source.matcher) await copyFile(join(source.dir, MATCHER_SAFETENSORS), join(outDir, MATCHER_SAFETENSORS));
    else await rm(join(outDir, MATCHER_SAFETENSORS), { force: true });
    const config = { ...c, provenance: { ...c.provenance, createdAt: new Date().toISOString() }, precision: 'int8', quantization };
    await writeFile(join(outDir, MODEL_JSON), `${JSON.stringify(config, null, 2)}\n`);
  } finally {
    await rm(tmp, { force: true });
  }
  return loadBundle(outDir);
}
