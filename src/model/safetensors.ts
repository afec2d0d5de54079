/**
 * Minimal safetensors reader/writer for float32 tensors (format: u64 little-endian header
 * length, JSON header {name: {dtype, shape, data_offsets}}, then the raw data).
 */

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** safetensors caps its JSON header at 100 MB (a matcher's header is a few hundred bytes). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

/** Thrown with a description of what is wrong with the file's layout. */
export class SafetensorsError extends Error {}

/**
 * The data section must be exactly the tensors laid end to end, as the safetensors
 * format requires: overlapping tensors would alias one another's bytes, and gaps or
 * trailing bytes are data no tensor accounts for.
 */
function checkLayout(spans: { name: string; begin: number; end: number }[], dataLen: number): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of spans) {
    if (s.begin < at)
      throw new SafetensorsError(
        `tensor ${s.name} at data_offsets [${s.begin}, ${s.end}] overlaps the tensor before it, which ends at ${at}`,
      );
    if (s.begin > at) throw new SafetensorsError(`data bytes [${at}, ${s.begin}) before tensor ${s.name} belong to no tensor`);
    at = s.end;
  }
  if (at !== dataLen) throw new SafetensorsError(`the tensors end at data byte ${at} but the data section is ${dataLen} bytes`);
}

/** Element sizes of safetensors dtypes, so tensors that are not read still have their layout checked. */
const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/**
 * Parses a safetensors file. The tensors read (all, or those `opts.only` selects) must be F32;
 * each is copied into its own aligned Float32Array (the file's data offsets need not be
 * 4-byte aligned). Tensors not selected (a checkpoint's `fc.*` or int64
 * `num_batches_tracked`) are only checked for their place in the layout.
 * @example const tensors = readSafetensors(await readFile('matcher.safetensors'));
 */
export function readSafetensors(bytes: Uint8Array, opts?: { only?: (name: string) => boolean }): Map<string, NamedTensor> {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_SAFETENSORS_HEADER_BYTES)
    throw new SafetensorsError(`header length ${headerLen} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`);
  if (headerLen > bytes.length - 8) throw new SafetensorsError(`header length ${headerLen} exceeds the file size ${bytes.length}`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const out = new Map<string, NamedTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (i === null || typeof i !== 'object') throw new SafetensorsError(`entry ${name} is not an object`);
    const wanted = opts?.only?.(name) ?? true;
    if (wanted && i.dtype !== 'F32') throw new SafetensorsError(`tensor ${name} has dtype ${String(i.dtype)}, expected F32`);
    const elementBytes = DTYPE_BYTES[String(i.dtype)];
    if (elementBytes === undefined) throw new SafetensorsError(`tensor ${name} has unknown dtype ${String(i.dtype)}`);
    const shape = i.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new SafetensorsError(`tensor ${name} has an invalid shape`);
    const offsets = i.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor ${name} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen || end - begin !== count * elementBytes) {
      throw new SafetensorsError(
        `tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape [${shape.join(', ')}] within ${dataLen} data bytes`,
      );
    }
    spans.push({ name, begin, end });
    if (!wanted) continue;
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    out.set(name, { shape: [...(shape as number[])], data });
  }
  checkLayout(spans, dataLen);
  return out;
}

/**
 * Serializes float32 tensors (insertion order) into safetensors bytes.
 * @example writeFileSync('m.safetensors', writeSafetensors(new Map([['w', { shape: [2], data: new Float32Array(2) }]])));
 */
export function writeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
