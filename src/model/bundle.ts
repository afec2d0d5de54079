/**
 * Model bundles: a directory with model.json, backbone.onnx and optionally
 * matcher.safetensors. Loading validates every file against model.json.
 */
import { join, resolve } from 'node:path';
import { ModelBundleError } from '../errors.js';
import type { HeadOptions } from '../head.js';
import { expectedMessage } from '../validate.js';
import { validateModelConfig, type ModelConfig } from './config.js';
import { readOnnxSignature } from './onnx/inspect.js';
import { DataType } from './onnx/builder.js';
import { MAX_SAFETENSORS_HEADER_BYTES, readSafetensors } from './safetensors.js';
import { bundleEntryExists, MAX_MODEL_JSON_BYTES, MAX_ONNX_BYTES, readBundleFile } from './bundle_file.js';
import { backboneFingerprint } from './fingerprint.js';

export const MODEL_JSON = 'model.json';
export const BACKBONE_ONNX = 'backbone.onnx';
export const MATCHER_SAFETENSORS = 'matcher.safetensors';

/**
 * A validated model bundle.
 * @example
 * const bundle = await loadBundle('./my-model');
 * const backbone = await Backbone.create(bundle);
 */
export interface ModelBundle {
  /** Absolute path of the bundle directory. */
  dir: string;
  config: ModelConfig;
  /** Absolute path of backbone.onnx. */
  backbonePath: string;
  /** `sha256:<hex>` of backbone.onnx and its preprocessing: which embeddings this model makes (see fingerprint.ts). */
  fingerprint: string;
  /** Per tap (tap order): W1 [C_t/2, C_t] and W2 [C_t, C_t/2], row-major. Absent without matcher MLPs. */
  matcher?: { w1: Float32Array; w2: Float32Array }[];
}

/**
 * The Head options a bundle defines: its head hyperparameters and matcher weights.
 * @example
 * const head = new Head({ ...headOptionsOf(bundle), device: 'cpu' });
 */
export function headOptionsOf(
  bundle: ModelBundle,
): Pick<HeadOptions, 'channels' | 'featureSize' | 'temperatureAttn' | 'temperature' | 'matcherWeight' | 'topK' | 'matcher'> {
  const { config } = bundle;
  return {
    channels: config.channels,
    featureSize: config.featureSize,
    temperatureAttn: config.temperatureAttn,
    temperature: config.temperature,
    matcherWeight: config.matcherWeight,
    topK: config.topK,
    matcher: bundle.matcher,
  };
}

/** The most bytes matcher.safetensors can need for `config`: the header cap plus W1 and W2 (C^2 floats) per tap. */
function maxMatcherBytes(config: ModelConfig): number {
  return 8 + MAX_SAFETENSORS_HEADER_BYTES + config.channels.reduce((a, c) => a + 4 * c * c, 0);
}

function dimsText(dims: readonly (number | string)[]): string {
  return `[${dims.map((d) => (typeof d === 'number' ? String(d) : 'N')).join(', ')}]`;
}

/** Checks the ONNX graph's input and output against model.json. */
function checkOnnx(file: string, bytes: Uint8Array, config: ModelConfig): void {
  let sig;
  try {
    sig = readOnnxSignature(bytes);
  } catch (e) {
    throw new ModelBundleError(file, `not a readable ONNX model (${(e as Error).message})`, { cause: e });
  }
  const input = sig.inputs.find((i) => i.name === 'images');
  const output = sig.outputs.find((o) => o.name === 'features');
  const c = config.channels.reduce((a, b) => a + b, 0);
  const f = config.featureSize;
  const s = config.crop;
  const want = (d: readonly (number | string)[], exp: number[]): boolean =>
    d.length === exp.length + 1 && typeof d[0] === 'string' && exp.every((e, i) => d[i + 1] === e);
  if (!input)
    throw new ModelBundleError(file, `has no graph input named 'images' (inputs: ${sig.inputs.map((i) => i.name).join(', ') || 'none'})`);
  if (input.elemType !== DataType.FLOAT || !want(input.dims, [3, s, s])) {
    throw new ModelBundleError(
      file,
      `input 'images' is ${dimsText(input.dims)} (type ${input.elemType}), model.json needs float32 [N, 3, ${s}, ${s}]`,
    );
  }
  if (!output)
    throw new ModelBundleError(
      file,
      `has no graph output named 'features' (outputs: ${sig.outputs.map((o) => o.name).join(', ') || 'none'})`,
    );
  if (output.elemType !== DataType.FLOAT || !want(output.dims, [c, f, f])) {
    throw new ModelBundleError(
      file,
      `output 'features' is ${dimsText(output.dims)} (type ${output.elemType}), model.json needs float32 [N, ${c}, ${f}, ${f}] (channels ${config.channels.join('+')}, featureSize ${f})`,
    );
  }
}

function loadMatcher(file: string, bytes: Uint8Array, config: ModelConfig): { w1: Float32Array; w2: Float32Array }[] {
  let tensors;
  try {
    tensors = readSafetensors(bytes);
  } catch (e) {
    throw new ModelBundleError(file, `not a readable safetensors file (${(e as Error).message})`, { cause: e });
  }
  const out: { w1: Float32Array; w2: Float32Array }[] = [];
  config.channels.forEach((c, t) => {
    const pick = (name: string, shape: [number, number]): Float32Array => {
      const x = tensors.get(name);
      if (!x) throw new ModelBundleError(file, `lacks tensor ${name} (tap ${config.taps[t]}, expected shape [${shape.join(', ')}])`);
      if (x.shape.length !== 2 || x.shape[0] !== shape[0] || x.shape[1] !== shape[1]) {
        throw new ModelBundleError(
          file,
          `tensor ${name} has shape [${x.shape.join(', ')}], expected [${shape.join(', ')}] for tap ${config.taps[t]} with ${c} channels`,
        );
      }
      for (let i = 0; i < x.data.length; i++) {
        if (!Number.isFinite(x.data[i]!)) throw new ModelBundleError(file, `tensor ${name} has a non-finite value at index ${i}`);
      }
      return x.data;
    };
    out.push({ w1: pick(`matcher.${t}.w1`, [c / 2, c]), w2: pick(`matcher.${t}.w2`, [c, c / 2]) });
  });
  const extra = [...tensors.keys()].filter((k) => !/^matcher\.\d+\.w[12]$/.test(k) || Number(k.split('.')[1]) >= config.taps.length);
  if (extra.length)
    throw new ModelBundleError(
      file,
      `has tensors that model.json's ${config.taps.length} taps do not use: ${extra.slice(0, 4).join(', ')}`,
    );
  return out;
}

/**
 * Loads and validates a model bundle directory. Throws ModelBundleError naming the file
 * and the problem (missing file, bad JSON, unknown schema version, wrong shapes, an ONNX
 * signature that does not match model.json, a file that is not a regular file or is
 * larger than such a file can be).
 * @example
 * const bundle = await loadBundle('./models/mini-imagenet');
 * console.log(bundle.config.taps, bundle.matcher ? 'with matcher' : 'no matcher');
 */
export async function loadBundle(dir: string): Promise<ModelBundle> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(expectedMessage('bundle directory path string', 'dir', dir));
  const root = resolve(dir);
  const jsonPath = join(root, MODEL_JSON);
  const text = (await readBundleFile(jsonPath, MAX_MODEL_JSON_BYTES)).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelBundleError(jsonPath, `is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const config = validateModelConfig(raw, jsonPath);
  const backbonePath = join(root, BACKBONE_ONNX);
  const onnx = await readBundleFile(backbonePath, MAX_ONNX_BYTES);
  checkOnnx(backbonePath, onnx, config);
  const bundle: ModelBundle = { dir: root, config, backbonePath, fingerprint: await backboneFingerprint(onnx, config) };
  const matcherPath = join(root, MATCHER_SAFETENSORS);
  if (await bundleEntryExists(matcherPath))
    bundle.matcher = loadMatcher(matcherPath, await readBundleFile(matcherPath, maxMatcherBytes(config)), config);
  return bundle;
}
