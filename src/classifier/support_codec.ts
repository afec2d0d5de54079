/**
 * A binary, versioned file format for a support set kept as embeddings (what
 * `exportSupport` returns): a service's store and a queue's workers persist and ship
 * support sets with it. The bytes may come from disk or the network, so decoding
 * trusts nothing: every length is checked against the bytes actually present before
 * anything is allocated, and every failure is an LwfmError with a stable code.
 *
 * Layout (little-endian):
 *   0  magic "LWFM-SUP" (8 bytes)
 *   8  u32 format version (1)
 *  12  u32 metadata byte length M
 *  16  u32 N (support images), 20 u32 C (channels), 24 u32 P (pixels = featureSize^2)
 *  28  u32 reserved, 0
 *  32  metadata: UTF-8 JSON { model: { channels, featureSize, crop, fingerprint }, labels }
 *      then zero padding to a multiple of 4 bytes
 *   .. N x C x P float32 features
 * end  u32 CRC-32 of every byte before it
 */
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import { LwfmError } from '../errors.js';
import { expectedMessage } from '../validate.js';
import type { SupportSnapshot } from './classifier.js';
import type { Label } from './labels.js';

/**
 * The format version this build writes (and the only one it reads).
 * @example
 * decodeSupportSnapshot(bytes).version === SUPPORT_FORMAT_VERSION; // true
 */
export const SUPPORT_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('LWFM-SUP', 'latin1');
const HEADER_BYTES = 32;
const TRAILER_BYTES = 4;
/** u32 fields cap N, C and P; this caps the features a file may claim (4 GiB of float32). */
const MAX_FEATURES = 2 ** 30;
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The model a support set's embeddings belong to: `classifier.info().model` fits.
 * @example
 * const model: SupportModelIdentity = classifier.info().model;
 */
export interface SupportModelIdentity {
  /** Channels per tapped layer; C is their sum. */
  channels: readonly number[];
  /** Pooled feature map side; P = featureSize^2. */
  featureSize: number;
  /** Input crop side in pixels. */
  crop: number;
  /** Backbone fingerprint (`sha256:<hex>`, see ClassifierInfo.model.fingerprint). */
  fingerprint: string;
}

/**
 * What `decodeSupportSnapshot` returns.
 * @example
 * const { snapshot, model, version } = decodeSupportSnapshot(bytes);
 */
export interface DecodedSupport {
  snapshot: SupportSnapshot;
  model: SupportModelIdentity;
  version: number;
}

/**
 * Malformed or truncated bytes: code `ERR_LWFM_SUPPORT_FORMAT`.
 * @example
 * try { decodeSupportSnapshot(bytes); } catch (e) { if (e instanceof LwfmError) console.log(e.code); }
 */
function formatError(problem: string): LwfmError {
  return new LwfmError(`Invalid support set file: ${problem}`, 'ERR_LWFM_SUPPORT_FORMAT');
}

/**
 * Encodes a support snapshot and the identity of the model that made it.
 * @example
 * const bytes = encodeSupportSnapshot(classifier.exportSupport(), classifier.info().model);
 * await writeFile('set.lwfmsup', bytes);
 */
export function encodeSupportSnapshot(snapshot: SupportSnapshot, model: SupportModelIdentity): Buffer {
  const identity = checkIdentity(model, 'model', (m) => new TypeError(m));
  if (snapshot === null || typeof snapshot !== 'object')
    throw new TypeError(expectedMessage('support snapshot object', 'snapshot', snapshot));
  const { features, dims, labels } = snapshot;
  if (!(features instanceof Float32Array)) throw new TypeError(expectedMessage('Float32Array', 'snapshot.features', features));
  const c = identity.channels.reduce((a, b) => a + b, 0);
  const p = identity.featureSize ** 2;
  if (!Array.isArray(dims) || dims.length !== 3 || !Number.isSafeInteger(dims[0]) || dims[0] < 1 || dims[1] !== c || dims[2] !== p) {
    throw new RangeError(expectedMessage(`dims [N >= 1, ${c}, ${p}] (the model's channels and pixels)`, 'snapshot.dims', dims));
  }
  const n = dims[0];
  if (n * c * p > MAX_FEATURES) throw new RangeError(expectedMessage(`at most ${MAX_FEATURES} features`, 'snapshot.dims', dims));
  if (features.length !== n * c * p)
    throw new RangeError(expectedMessage(`${n * c * p} features (N x C x P)`, 'snapshot.features.length', features.length));
  checkLabels(labels, n, (m) => new TypeError(m));
  const meta = Buffer.from(JSON.stringify({ model: identity, labels }), 'utf8');
  const dataOffset = align4(HEADER_BYTES + meta.length);
  const total = dataOffset + features.length * 4 + TRAILER_BYTES;
  const out = Buffer.alloc(total);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(SUPPORT_FORMAT_VERSION, 8);
  out.writeUInt32LE(meta.length, 12);
  out.writeUInt32LE(n, 16);
  out.writeUInt32LE(c, 20);
  out.writeUInt32LE(p, 24);
  meta.copy(out, HEADER_BYTES);
  if (LITTLE_ENDIAN) {
    Buffer.from(features.buffer, features.byteOffset, features.byteLength).copy(out, dataOffset);
  } else {
    const view = new DataView(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < features.length; i++) view.setFloat32(dataOffset + i * 4, features[i]!, true);
  }
  out.writeUInt32LE(crc32(out.subarray(0, total - TRAILER_BYTES)), total - TRAILER_BYTES);
  return out;
}

/**
 * Decodes bytes made by `encodeSupportSnapshot`. Throws LwfmError `ERR_LWFM_SUPPORT_FORMAT`
 * for anything malformed (truncated, bad checksum, inconsistent header, non-finite
 * features), `ERR_LWFM_SUPPORT_VERSION` for another format version, and, when `expect`
 * is given, `ERR_LWFM_SUPPORT_MODEL` if the set was made by a different model.
 * @example
 * const { snapshot } = decodeSupportSnapshot(await readFile('set.lwfmsup'), { expect: classifier.info().model });
 * await classifier.importSupport(snapshot);
 */
export function decodeSupportSnapshot(bytes: Uint8Array, options?: { expect?: SupportModelIdentity }): DecodedSupport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(expectedMessage('Buffer or Uint8Array', 'bytes', bytes));
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES + TRAILER_BYTES)
    throw formatError(`${buf.length} bytes is shorter than the ${HEADER_BYTES + TRAILER_BYTES}-byte minimum`);
  if (!buf.subarray(0, 8).equals(MAGIC)) throw formatError('it does not start with the LWFM-SUP magic');
  const version = buf.readUInt32LE(8);
  if (version !== SUPPORT_FORMAT_VERSION) {
    throw new LwfmError(
      `Support set file has format version ${version}; this build reads version ${SUPPORT_FORMAT_VERSION}`,
      'ERR_LWFM_SUPPORT_VERSION',
    );
  }
  const metaBytes = buf.readUInt32LE(12);
  const n = buf.readUInt32LE(16);
  const c = buf.readUInt32LE(20);
  const p = buf.readUInt32LE(24);
  if (buf.readUInt32LE(28) !== 0) throw formatError('reserved header field is not 0');
  if (n < 1 || c < 1 || p < 1) throw formatError(`header dims [${n}, ${c}, ${p}] must all be >= 1`);
  // N x C x P < 2^96 is exact enough in a double to compare against the real size.
  const count = n * c * p;
  if (count > MAX_FEATURES) throw formatError(`header claims ${count} features, more than the ${MAX_FEATURES} limit`);
  const dataOffset = align4(HEADER_BYTES + metaBytes);
  const expected = dataOffset + count * 4 + TRAILER_BYTES;
  if (expected !== buf.length) {
    throw formatError(
      `header (metadata ${metaBytes} bytes, dims [${n}, ${c}, ${p}]) needs ${expected} bytes but there are ${buf.length} (truncated or padded)`,
    );
  }
  const stored = buf.readUInt32LE(buf.length - TRAILER_BYTES);
  if (crc32(buf.subarray(0, buf.length - TRAILER_BYTES)) !== stored) throw formatError('checksum mismatch (the bytes were damaged)');
  let meta: unknown;
  try {
    meta = JSON.parse(buf.toString('utf8', HEADER_BYTES, HEADER_BYTES + metaBytes));
  } catch (e) {
    throw formatError(`metadata is not valid JSON (${(e as Error).message})`);
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw formatError('metadata is not a JSON object');
  const m = meta as Record<string, unknown>;
  const model = checkIdentity(m.model, 'metadata.model', formatError);
  const cOf = model.channels.reduce((a, b) => a + b, 0);
  if (cOf !== c || model.featureSize ** 2 !== p) {
    throw formatError(
      `header dims C=${c}, P=${p} disagree with the model's channels ${model.channels.join('+')} and featureSize ${model.featureSize}`,
    );
  }
  const labels = checkLabels(m.labels, n, formatError);
  // Allocated only now: `count` was checked against the bytes actually present.
  const features = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(features.buffer).set(buf.subarray(dataOffset, dataOffset + count * 4));
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < count; i++) features[i] = view.getFloat32(dataOffset + i * 4, true);
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(features[i]!)) throw formatError(`feature ${i} (row ${Math.floor(i / (c * p))}) is ${features[i]}`);
  }
  if (options?.expect !== undefined) checkSameModel(model, options.expect);
  return { snapshot: { features, dims: [n, c, p], labels }, model, version };
}

/**
 * Throws LwfmError `ERR_LWFM_SUPPORT_MODEL` unless a support set's model is `actual`:
 * same channels, feature size, crop and backbone fingerprint.
 * @example
 * checkSameModel(decoded.model, classifier.info().model);
 */
export function checkSameModel(stored: SupportModelIdentity, actual: SupportModelIdentity): void {
  const diff: string[] = [];
  if (stored.channels.join(',') !== actual.channels.join(','))
    diff.push(`channels ${stored.channels.join('+')} vs ${actual.channels.join('+')}`);
  if (stored.featureSize !== actual.featureSize) diff.push(`featureSize ${stored.featureSize} vs ${actual.featureSize}`);
  if (stored.crop !== actual.crop) diff.push(`crop ${stored.crop} vs ${actual.crop}`);
  if (stored.fingerprint !== actual.fingerprint) diff.push(`fingerprint ${stored.fingerprint} vs ${actual.fingerprint}`);
  if (diff.length > 0) {
    throw new LwfmError(`Support set was embedded by a different model than the one loaded (${diff.join('; ')})`, 'ERR_LWFM_SUPPORT_MODEL');
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

const isPositiveInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max;

function checkIdentity(value: unknown, name: string, fail: (message: string) => Error): SupportModelIdentity {
  if (value === null || typeof value !== 'object')
    throw fail(expectedMessage('model identity { channels, featureSize, crop, fingerprint }', name, value));
  const v = value as Record<string, unknown>;
  const { channels, featureSize, crop, fingerprint } = v;
  if (!Array.isArray(channels) || channels.length < 1 || channels.length > 64 || !channels.every((x) => isPositiveInt(x, 1 << 20))) {
    throw fail(expectedMessage('non-empty array of positive channel counts', `${name}.channels`, channels));
  }
  if (!isPositiveInt(featureSize, 4096)) throw fail(expectedMessage('positive integer feature size', `${name}.featureSize`, featureSize));
  if (!isPositiveInt(crop, 1 << 16)) throw fail(expectedMessage('positive integer crop', `${name}.crop`, crop));
  if (typeof fingerprint !== 'string' || fingerprint.length > 256)
    throw fail(expectedMessage('fingerprint string of at most 256 characters', `${name}.fingerprint`, fingerprint));
  return {
    channels: [...(channels as number[])],
    featureSize,
    crop,
    fingerprint,
  };
}

function checkLabels(value: unknown, n: number, fail: (message: string) => Error): Label[] {
  if (!Array.isArray(value) || value.length !== n) throw fail(expectedMessage(`array of ${n} labels (one per row)`, 'labels', value));
  value.forEach((l, i) => {
    if (!(typeof l === 'string' || (typeof l === 'number' && Number.isFinite(l))))
      throw fail(expectedMessage('string or finite number label', `labels[${i}]`, l));
  });
  return value as Label[];
}
