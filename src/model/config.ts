/**
 * model.json: the versioned description of a model bundle (every hyperparameter of
 * docs/computation.md plus provenance), and its validation.
 */
import { ModelBundleError } from '../errors.js';
import { describeValue } from '../validate.js';
import { RESNET_ARCHS, resnetLayout, type ResNetArch } from './resnet.js';
import { validatePrecision, type QuantizationInfo } from './quantize/info.js';

export const MODEL_SCHEMA = 'lwfm-spm/model';
export const MODEL_SCHEMA_VERSION = 1;

/**
 * Hyperparameters and provenance of a model bundle (the contents of model.json).
 * @example
 * const { config } = await loadBundle('./my-model');
 * console.log(config.taps, config.channels, config.provenance.trained);
 */
export interface ModelConfig {
  schema: 'lwfm-spm/model';
  schemaVersion: 1;
  /** Backbone architecture; model.json files written before ResNet-34/50 existed omit it and mean 'resnet18'. */
  arch: ResNetArch;
  /** Tap ids (docs/computation.md §2), strictly increasing, in 0..8 (ResNet-18) or 0..16 (ResNet-34/50). */
  taps: number[];
  /** Channels of each tap, in tap order (must match the architecture's table). */
  channels: number[];
  /** F: each tap is pooled to F x F pixels. */
  featureSize: number;
  pooling: 'average' | 'bilinear';
  /** R: images are resized to R x R. */
  resize: number;
  /** S: then center-cropped to S x S. */
  crop: number;
  mean: [number, number, number];
  std: [number, number, number];
  temperatureAttn: number;
  temperature: number;
  matcherWeight: number;
  topK: number;
  provenance: { source: string; converterVersion: string; trained: boolean; createdAt?: string };
  /** Backbone precision; absent means 'fp32'. 'int8' bundles are made by quantizeBundle(). */
  precision?: 'fp32' | 'int8';
  /** How an int8 backbone was quantized (present when precision is 'int8'). */
  quantization?: QuantizationInfo;
}

/** docs/computation.md defaults (miniImageNet normalisation). */
export const DEFAULT_HYPERPARAMETERS = {
  taps: [7, 8],
  featureSize: 3,
  pooling: 'average' as const,
  resize: 92,
  crop: 84,
  mean: [125.3 / 255, 123.0 / 255, 113.9 / 255] as [number, number, number],
  std: [63.0 / 255, 62.1 / 255, 66.7 / 255] as [number, number, number],
  temperatureAttn: 5,
  temperature: 0.2,
  matcherWeight: 0.25,
  topK: 1,
};

type Obj = Record<string, unknown>;

/** Short arrays of numbers/strings are shown in full: "received [8, 7]" says more than "array of length 2". */
function shown(value: unknown): string {
  if (Array.isArray(value) && value.length <= 16 && value.every((v) => typeof v === 'number' || typeof v === 'string'))
    return JSON.stringify(value);
  return describeValue(value);
}

/**
 * Checks parsed model.json contents; throws ModelBundleError naming `file` and the field.
 * @example const config = validateModelConfig(JSON.parse(text), '/models/x/model.json');
 */
export function validateModelConfig(raw: unknown, file: string): ModelConfig {
  const fail = (field: string, what: string, value: unknown): never => {
    throw new ModelBundleError(file, `expected ${what} for ${field} but received ${shown(value)}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('the top level', 'a JSON object', raw);
  const o = raw as Obj;
  if (o.schema !== MODEL_SCHEMA) fail('schema', `'${MODEL_SCHEMA}'`, o.schema);
  if (o.schemaVersion !== MODEL_SCHEMA_VERSION) {
    fail(
      'schemaVersion',
      `${MODEL_SCHEMA_VERSION} (this version of lwfm-spm reads schema version ${MODEL_SCHEMA_VERSION} only)`,
      o.schemaVersion,
    );
  }
  const int = (k: string, lo: number, hi: number): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(k, `an integer in ${lo}..${hi}`, v);
    return v as number;
  };
  const num = (k: string, min: number, exclusive: boolean): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || (exclusive ? v <= min : v < min)) {
      fail(k, `a finite number ${exclusive ? '>' : '>='} ${min}`, v);
    }
    return v as number;
  };
  const triple = (k: string, positive: boolean): [number, number, number] => {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
      fail(k, `an array of 3 finite${positive ? ' positive' : ''} numbers`, v);
    }
    return [...(v as number[])] as [number, number, number];
  };

  if (o.arch !== undefined && !RESNET_ARCHS.includes(o.arch as ResNetArch))
    fail('arch', RESNET_ARCHS.map((a) => `'${a}'`).join(' or '), o.arch);
  const arch = (o.arch ?? 'resnet18') as ResNetArch;
  const layout = resnetLayout(arch);
  const taps = o.taps;
  if (
    !Array.isArray(taps) ||
    taps.length === 0 ||
    !taps.every((t, i) => Number.isInteger(t) && t >= 0 && t <= layout.maxTap && (i === 0 || t > taps[i - 1]))
  ) {
    fail('taps', `a non-empty strictly increasing array of ${arch} tap ids in 0..${layout.maxTap}`, taps);
  }
  const tapList = taps as number[];
  const channels = o.channels;
  const expectedChannels = tapList.map((t) => layout.tapChannels[t]!);
  if (!Array.isArray(channels) || channels.length !== tapList.length || channels.some((c, i) => c !== expectedChannels[i])) {
    fail('channels', `[${expectedChannels.join(', ')}] (${arch} channels of taps [${tapList.join(', ')}])`, channels);
  }
  const featureSize = int('featureSize', 1, 64);
  if (o.pooling !== 'average' && o.pooling !== 'bilinear') fail('pooling', "'average' or 'bilinear'", o.pooling);
  const crop = int('crop', 16, 4096);
  const resize = int('resize', crop, 4096);
  const mean = triple('mean', false);
  const std = triple('std', true);
  const temperatureAttn = num('temperatureAttn', 0, true);
  const temperature = num('temperature', 0, true);
  const matcherWeight = num('matcherWeight', 0, false);
  const topK = int('topK', 1, featureSize * featureSize);
  const p = o.provenance;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) fail('provenance', 'an object', p);
  const prov = p as Obj;
  if (typeof prov.source !== 'string') fail('provenance.source', 'a string', prov.source);
  if (typeof prov.converterVersion !== 'string') fail('provenance.converterVersion', 'a string', prov.converterVersion);
  if (typeof prov.trained !== 'boolean') fail('provenance.trained', 'a boolean', prov.trained);
  if (prov.createdAt !== undefined && typeof prov.createdAt !== 'string') fail('provenance.createdAt', 'a string', prov.createdAt);
  const provenance: ModelConfig['provenance'] = {
    source: prov.source as string,
    converterVersion: prov.converterVersion as string,
    trained: prov.trained as boolean,
  };
  if (typeof prov.createdAt === 'string') provenance.createdAt = prov.createdAt;
  return {
    schema: MODEL_SCHEMA,
    schemaVersion: MODEL_SCHEMA_VERSION,
    arch,
    taps: [...tapList],
    channels: [...expectedChannels],
    featureSize,
    pooling: o.pooling as 'average' | 'bilinear',
    resize,
    crop,
    mean,
    std,
    temperatureAttn,
    temperature,
    matcherWeight,
    topK,
    provenance,
    ...validatePrecision(o, file),
  };
}
