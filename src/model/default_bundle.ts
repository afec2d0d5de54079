/**
 * The untrained default model: built in TypeScript on first use (no Python, no download)
 * and cached. Weights: src/model/default_weights.ts. The build runs in a worker thread so
 * the ~1 s of weight generation and encoding never blocks the event loop.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { expectOptions, expectedMessage } from '../validate.js';
import { loadBundle, BACKBONE_ONNX, MODEL_JSON, type ModelBundle } from './bundle.js';
import { DEFAULT_HYPERPARAMETERS, MODEL_SCHEMA, MODEL_SCHEMA_VERSION, type ModelConfig } from './config.js';
import { channelsOf } from './resnet.js';
import { DEFAULT_SEED } from './default_weights.js';
import { runBackboneBuild } from './write_bundle.js';
import { ModelBundleError } from '../errors.js';

import { DEFAULT_CONVERTER_VERSION, DEFAULT_MODEL_VERSION } from './default_bundle_constants.js';

export { DEFAULT_CONVERTER_VERSION, DEFAULT_MODEL_VERSION };

/** The model.json of the default model. */
export function defaultModelConfig(): ModelConfig {
  const h = DEFAULT_HYPERPARAMETERS;
  return {
    schema: MODEL_SCHEMA,
    schemaVersion: MODEL_SCHEMA_VERSION,
    arch: 'resnet18',
    taps: [...h.taps],
    channels: channelsOf(h.taps),
    featureSize: h.featureSize,
    pooling: h.pooling,
    resize: h.resize,
    crop: h.crop,
    mean: [...h.mean],
    std: [...h.std],
    temperatureAttn: h.temperatureAttn,
    temperature: h.temperature,
    matcherWeight: h.matcherWeight,
    topK: h.topK,
    provenance: {
      source: `lwfm-spm default model v${DEFAULT_MODEL_VERSION}: UNTRAINED, seeded Kaiming-normal ResNet-18 (seed ${DEFAULT_SEED}); predictions are not meaningful, convert a trained checkpoint`,
      converterVersion: DEFAULT_CONVERTER_VERSION,
      trained: false,
    },
  };
}

/** Cache root: $LWFM_SPM_CACHE, else $XDG_CACHE_HOME/lwfm-spm, else ~/.cache/lwfm-spm. */
export function defaultCacheRoot(): string {
  const env = process.env.LWFM_SPM_CACHE;
  if (env) return resolve(env);
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'lwfm-spm');
}

/** Writes the default bundle's files into `dir` (in a worker thread). */
export async function writeDefaultBundle(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const h = DEFAULT_HYPERPARAMETERS;
  const msg = await runBackboneBuild({
    out: join(dir, BACKBONE_ONNX),
    arch: 'resnet18',
    taps: [...h.taps],
    featureSize: h.featureSize,
    pooling: h.pooling,
    crop: h.crop,
    producerVersion: DEFAULT_CONVERTER_VERSION,
  });
  if (!msg.ok) throw new ModelBundleError(dir, `building the default model failed: ${msg.message}`);
  await writeFile(
    join(dir, MODEL_JSON),
    `${JSON.stringify({ ...defaultModelConfig(), provenance: { ...defaultModelConfig().provenance, createdAt: new Date().toISOString() } }, null, 2)}\n`,
  );
}

const inFlight = new Map<string, Promise<ModelBundle>>();

/**
 * The untrained default model (provenance.trained = false), built and cached on first use
 * in `<cacheDir>/default-<version>` (cacheDir defaults to defaultCacheRoot()). Concurrent
 * callers and processes share one build: files are written to a temporary directory and
 * renamed into place; a damaged cache is rebuilt.
 * @example
 * const bundle = await defaultBundle();
 * bundle.config.provenance.trained; // false
 */
export async function defaultBundle(opts?: { cacheDir?: string }): Promise<ModelBundle> {
  const o = expectOptions(opts, 'opts');
  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir.length === 0)) {
    throw new TypeError(expectedMessage('directory path string', 'opts.cacheDir', o.cacheDir));
  }
  const dir = join(o.cacheDir ? resolve(o.cacheDir as string) : defaultCacheRoot(), `default-${DEFAULT_MODEL_VERSION}`);
  let p = inFlight.get(dir);
  if (!p) {
    p = ensureDefaultBundle(dir).finally(() => inFlight.delete(dir));
    inFlight.set(dir, p);
  }
  return p;
}

async function ensureDefaultBundle(dir: string): Promise<ModelBundle> {
  try {
    const cached = await loadBundle(dir);
    if (!cached.config.provenance.trained) return cached;
  } catch (e) {
    if (!(e instanceof ModelBundleError)) throw e;
  }
  await buildIntoPlace(dir, writeDefaultBundle);
  return loadBundle(dir);
}

/**
 * Runs `build` on a temporary sibling directory of `dir` and renames it into place, so
 * no process ever sees a half-written cached bundle (the int8 default model uses it too).
 * @example await buildIntoPlace(join(root, 'default-1'), writeDefaultBundle);
 */
export async function buildIntoPlace(dir: string, build: (tmp: string) => Promise<unknown>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await build(tmp);
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another process renamed its build into place first; theirs is as good as ours.
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
