/**
 * The few protobuf wire-format pieces that writing and checking ONNX files needs.
 * Messages are built bottom-up as byte arrays: a length-delimited field needs its
 * payload's size first, and ONNX graphs are small enough that the extra copies of the
 * weight blobs (a few tens of MB) do not matter.
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Wire types used by ONNX. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Varint encoding of a non-negative integer or a negative int64 (two's complement, 10 bytes). */
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Accumulates the fields of one message. */
export class MessageWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.push(Uint8Array.from(varint((field << 3) | wire)));
  }

  /** int32/int64/enum/bool field. */
  int(field: number, value: number | bigint): this {
    return this.tag(field, VARINT).push(Uint8Array.from(varint(value)));
  }

  /** float (fixed32) field. */
  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(field, 5).push(b);
  }

  /** bytes / embedded message field. */
  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, LENGTH_DELIMITED).push(Uint8Array.from(varint(value.length))).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, value: MessageWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** One decoded field: varints as bigint, length-delimited fields as a view (no copy). */
export type Field = { field: number; wire: 0; value: bigint } | { field: number; wire: 2; value: Uint8Array } | { field: number; wire: 1 | 5; value: Uint8Array };

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtobufError extends Error {}

/**
 * Iterates over the top-level fields of a message. Throws ProtobufError on truncation
 * or unsupported wire types, so a damaged file is reported instead of misread.
 */
export function* readFields(buf: Uint8Array): Generator<Field> {
  let at = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtobufError('varint longer than 10 bytes');
    }
  };
  while (at < buf.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === VARINT) {
      yield { field, wire: 0, value: readVarint() };
    } else if (wire === LENGTH_DELIMITED) {
      const len = Number(readVarint());
      if (at + len > buf.length) throw new ProtobufError(`field ${field} runs past the end of its message`);
      yield { field, wire: 2, value: buf.subarray(at, at + len) };
      at += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (at + len > buf.length) throw new ProtobufError(`field ${field} runs past the end of its message`);
      yield { field, wire, value: buf.subarray(at, at + len) };
      at += len;
    } else {
      throw new ProtobufError(`unsupported wire type ${wire} for field ${field}`);
    }
  }
}

/** UTF-8 text of a length-delimited field. */
export function decodeString(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}
