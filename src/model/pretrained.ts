/**
 * ImageNet-pretrained bundles without Python: torchvision's original ImageNet weights for
 * ResNet-18/34/50, as timm publishes them in safetensors form on the Hugging Face Hub
 * (`timm/<arch>.tv_in1k`, BSD-3-Clause), downloaded once into a verified cache (or read from
 * a local file), and turned into a bundle by the same TypeScript writer as every other model.
 * The head runs without a learned matcher (docs/computation.md §3.3, "Without an MLP").
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ModelBundleError } from '../errors.js';
import { expectOptions, expectedMessage } from '../validate.js';
import { MAX_ONNX_BYTES, readBundleFile } from './bundle_file.js';
import { MODEL_SCHEMA, MODEL_SCHEMA_VERSION, validateModelConfig, type ModelConfig } from './config.js';
import { defaultCacheRoot } from './default_bundle.js';
import { downloadVerified, type DownloadProgress } from './download.js';
import { channelsOf, defaultTaps, RESNET_ARCHS, type ResNetArch } from './resnet.js';
import { writeBundle } from './write_bundle.js';
import { quantizeInPlace } from './quantize/convert_int8.js';

/** Version of this bundle builder, recorded as provenance.converterVersion. */
export const PRETRAINED_BUILDER_VERSION = '1.0.0';
export const TORCHVISION_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const TORCHVISION_STD: [number, number, number] = [0.229, 0.224, 0.225];
const WEIGHTS_LICENSE = 'BSD-3-Clause';

/** The Hub repository holding torchvision's ImageNet weights for `arch`. */
export function hubRepo(arch: ResNetArch): string {
  return `timm/${arch}.tv_in1k`;
}

/**
 * The download URL of `arch`'s weights: $LWFM_SPM_HUB_URL (tests point it at a loopback
 * server) or https://huggingface.co, then `/<repo>/resolve/main/model.safetensors`.
 * @example pretrainedUrl('resnet18') // 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors'
 */
export function pretrainedUrl(arch: ResNetArch): string {
  const base = (process.env.LWFM_SPM_HUB_URL || 'https://huggingface.co').replace(/\/+$/, '');
  return `${base}/${hubRepo(arch)}/resolve/main/model.safetensors`;
}

/**
 * What buildPretrainedBundle reports while it works: download bytes, checking or using the
 * cache, building the bundle.
 * @example
 * await buildPretrainedBundle({ arch: 'resnet18', out: 'r18', onProgress: (p) => p.phase === 'download' && console.log(p.received, p.total) });
 */
export type PretrainedProgress =
  ({ phase: 'download' } & DownloadProgress) | { phase: 'cached'; path: string } | { phase: 'verify' } | { phase: 'build' };

/**
 * Options of buildPretrainedBundle: the architecture, the output directory, optionally a
 * local weights file, and the model settings (defaults: the authors' geometry, the last two
 * blocks as taps, matcherWeight 0.25 without an MLP).
 * @example
 * const opts: PretrainedOptions = { arch: 'resnet50', out: './r50', crop: 112, featureSize: 4 };
 */
export interface PretrainedOptions {
  arch: ResNetArch;
  /** Bundle directory to create. */
  out: string;
  /** A local safetensors file in timm/torchvision key naming; nothing is downloaded then. */
  from?: string;
  /** Replace an existing `out`. */
  force?: boolean;
  taps?: number[];
  featureSize?: number;
  pooling?: 'average' | 'bilinear';
  resize?: number;
  crop?: number;
  temperatureAttn?: number;
  temperature?: number;
  matcherWeight?: number;
  topK?: number;
  /** Cache directory (default: $LWFM_SPM_CACHE, else the platform cache directory). */
  cacheDir?: string;
  /** Stall timeout of the download in ms (default 60 000). */
  timeoutMs?: number;
  onProgress?: (p: PretrainedProgress) => void;
  /** 'int8': quantize the built bundle (src/model/quantize) in place; default 'fp32'. */
  precision?: 'fp32' | 'int8';
  /** With int8: calibration images of your domain (default: the bundled samples, with a warning). */
  calibrate?: string;
}

/** SHA-256 of a file, streamed (the event loop stays free). */
async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface CacheRecord {
  url: string;
  sha256: string;
  size: number;
}

/**
 * The cached weights of `arch`, downloaded and verified when absent or damaged. A cached file
 * is used only when its record (written after verification) exists and the file's size and
 * SHA-256 still match it.
 */
async function cachedWeights(arch: ResNetArch, o: PretrainedOptions): Promise<{ path: string; record: CacheRecord }> {
  const dir = join(o.cacheDir ? resolve(o.cacheDir) : defaultCacheRoot(), 'pretrained');
  const path = join(dir, `${arch}.tv_in1k.safetensors`);
  const recordPath = `${path}.verified.json`;
  const url = pretrainedUrl(arch);
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as CacheRecord;
    if (record.url === url && (await stat(path)).size === record.size) {
      o.onProgress?.({ phase: 'verify' });
      if ((await hashFile(path)) === record.sha256) {
        o.onProgress?.({ phase: 'cached', path });
        return { path, record };
      }
    }
  } catch {
    // no usable cache entry: download below
  }
  await mkdir(dir, { recursive: true });
  // The record goes first so that a file without a fresh record is never trusted.
  await rm(recordPath, { force: true });
  await rm(path, { force: true });
  const got = await downloadVerified({
    url,
    dest: path,
    timeoutMs: o.timeoutMs,
    onProgress: (p) => o.onProgress?.({ phase: 'download', ...p }),
  });
  const record: CacheRecord = { url, sha256: got.sha256, size: got.size };
  await writeFile(`${recordPath}.tmp-${process.pid}`, JSON.stringify(record));
  await rename(`${recordPath}.tmp-${process.pid}`, recordPath);
  return { path, record };
}

function checkOptions(opts: unknown): PretrainedOptions {
  const o = expectOptions(opts, 'options') as Partial<PretrainedOptions>;
  if (!RESNET_ARCHS.includes(o.arch as ResNetArch))
    throw new TypeError(expectedMessage(RESNET_ARCHS.map((a) => `'${a}'`).join(' or '), 'options.arch', o.arch));
  if (typeof o.out !== 'string' || o.out.length === 0) throw new TypeError(expectedMessage('directory path string', 'options.out', o.out));
  if (o.from !== undefined && (typeof o.from !== 'string' || o.from.length === 0))
    throw new TypeError(expectedMessage('file path string', 'options.from', o.from));
  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir.length === 0))
    throw new TypeError(expectedMessage('directory path string', 'options.cacheDir', o.cacheDir));
  if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === 'number' && o.timeoutMs > 0 && Number.isFinite(o.timeoutMs))) {
    throw new RangeError(expectedMessage('positive number of milliseconds', 'options.timeoutMs', o.timeoutMs));
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new TypeError(expectedMessage('function', 'options.onProgress', o.onProgress));
  if (o.precision !== undefined && o.precision !== 'fp32' && o.precision !== 'int8')
    throw new TypeError(expectedMessage("'fp32' or 'int8'", 'options.precision', o.precision));
  if (o.calibrate !== undefined && (o.precision !== 'int8' || typeof o.calibrate !== 'string' || o.calibrate.length === 0))
    throw new TypeError(expectedMessage("calibration directory path with precision 'int8'", 'options.calibrate', o.calibrate));
  return o as PretrainedOptions;
}

/**
 * The model.json of a pretrained bundle: the authors' geometry (resize 92, crop 84, F = 3,
 * average pooling), the last two blocks as taps, torchvision's ImageNet normalisation and
 * matcherWeight 0.25 without an MLP, unless overridden. Values are validated by writeBundle.
 * @example pretrainedConfig({ arch: 'resnet50', out: 'x' }, 'timm/resnet50.tv_in1k ...').taps // [15, 16]
 */
export function pretrainedConfig(o: PretrainedOptions, source: string): ModelConfig {
  const taps = o.taps ?? defaultTaps(o.arch);
  return {
    schema: MODEL_SCHEMA,
    schemaVersion: MODEL_SCHEMA_VERSION,
    arch: o.arch,
    taps,
    channels: Array.isArray(taps) ? channelsOf(taps, o.arch) : [],
    featureSize: o.featureSize ?? 3,
    pooling: o.pooling ?? 'average',
    resize: o.resize ?? Math.max(92, o.crop ?? 84),
    crop: o.crop ?? 84,
    mean: [...TORCHVISION_MEAN],
    std: [...TORCHVISION_STD],
    temperatureAttn: o.temperatureAttn ?? 5,
    temperature: o.temperature ?? 0.2,
    matcherWeight: o.matcherWeight ?? 0.25,
    topK: o.topK ?? 1,
    provenance: { source, converterVersion: PRETRAINED_BUILDER_VERSION, trained: true, createdAt: new Date().toISOString() },
  };
}

/**
 * Builds a bundle of an ImageNet-pretrained ResNet-18/34/50 (torchvision's weights from
 * `timm/<arch>.tv_in1k` on the Hugging Face Hub, or `from` a local safetensors file) and
 * returns its directory. Throws ModelDownloadError for a failed or unverified download and
 * ModelBundleError for weights that are missing tensors or an existing `out` without `force`.
 * @example
 * const dir = await buildPretrainedBundle({ arch: 'resnet18', out: './models/resnet18' });
 * const classifier = await FewShotClassifier.load(dir);
 */
export async function buildPretrainedBundle(options: PretrainedOptions): Promise<string> {
  const o = checkOptions(options);
  try {
    // Settings are checked before anything is downloaded.
    validateModelConfig(pretrainedConfig(o, ''), 'options');
  } catch (e) {
    if (!(e instanceof ModelBundleError)) throw e;
    throw new RangeError(`buildPretrainedBundle: ${e.message.replace(/^Invalid model bundle file options: /, '')}`, { cause: e });
  }
  let weightsFile: string;
  let source: string;
  if (o.from !== undefined) {
    weightsFile = resolve(o.from);
    source = `local file ${basename(weightsFile)} (torchvision/timm key naming)`;
  } else {
    const { path, record } = await cachedWeights(o.arch, o);
    weightsFile = path;
    source = `${hubRepo(o.arch)} model.safetensors: torchvision's ImageNet-1k weights, licence ${WEIGHTS_LICENSE}; ${record.url} sha256 ${record.sha256}`;
  }
  const weights = await readBundleFile(weightsFile, MAX_ONNX_BYTES);
  o.onProgress?.({ phase: 'build' });
  const config = pretrainedConfig(o, source);
  try {
    const dir = (await writeBundle({ config, weights, weightsFile, out: o.out, force: o.force })).dir;
    if (o.precision === 'int8') await quantizeInPlace(dir, o.calibrate);
    return dir;
  } catch (e) {
    // A verified download that is not a usable ResNet (a wrong file on the server) must not
    // be reused by the next run either.
    if (o.from === undefined && e instanceof ModelBundleError && e.file === weightsFile) {
      await rm(`${weightsFile}.verified.json`, { force: true });
      await rm(weightsFile, { force: true });
    }
    throw e;
  }
}
