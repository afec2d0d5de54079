/**
 * Argument checks at the TypeScript boundary. Every message has one shape:
 * "Expected <what> for <name> but received <value> of type <type>", so users can
 * tell at a glance which argument is wrong and how.
 */

/** Short, bounded rendering of any value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null of type null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const length = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${name}(${length}) of type object`;
  }
  if (Array.isArray(value)) return `array of length ${value.length} of type object`;
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `${JSON.stringify(shown)} of type string`;
  }
  if (typeof value === 'object') return `${value.constructor?.name ?? 'Object'} of type object`;
  if (typeof value === 'function') return 'function of type function';
  return `${String(value)} of type ${typeof value}`;
}

/** Builds the one message shape used everywhere. */
export function expectedMessage(what: string, name: string, value: unknown): string {
  return `Expected ${what} for ${name} but received ${describeValue(value)}`;
}

/** Throws TypeError unless `value` is an integer (number type). */
function requireInteger(value: unknown, name: string, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(expectedMessage(what, name, value));
  }
}

/**
 * Positive integer within [1, max].
 * @example expectPositiveInteger(way, 'way') // "Expected positive integer for way but received -1 of type number"
 */
export function expectPositiveInteger(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  requireInteger(value, name, 'positive integer');
  if (value < 1) throw new RangeError(expectedMessage('positive integer', name, value));
  if (value > max) throw new RangeError(expectedMessage(`integer at most ${max}`, name, value));
  return value;
}

/** Non-negative integer within [0, max]. */
export function expectNonNegativeInteger(value: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number {
  requireInteger(value, name, 'non-negative integer');
  if (value < 0) throw new RangeError(expectedMessage('non-negative integer', name, value));
  if (value > max) throw new RangeError(expectedMessage(`integer at most ${max}`, name, value));
  return value;
}

/** Finite number, optionally strictly positive or non-negative. */
export function expectFiniteNumber(value: unknown, name: string, constraint: 'any' | 'positive' | 'nonNegative' = 'any'): number {
  const what =
    constraint === 'positive' ? 'positive finite number' : constraint === 'nonNegative' ? 'non-negative finite number' : 'finite number';
  if (typeof value !== 'number') throw new TypeError(expectedMessage(what, name, value));
  if (!Number.isFinite(value)) throw new RangeError(expectedMessage(what, name, value));
  if (constraint === 'positive' && !(value > 0)) throw new RangeError(expectedMessage(what, name, value));
  if (constraint === 'nonNegative' && !(value >= 0)) throw new RangeError(expectedMessage(what, name, value));
  return value;
}

/** Boolean (undefined allowed when a default applies: check before calling). */
export function expectBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(expectedMessage('boolean', name, value));
  return value;
}

/** One of a fixed set of strings. */
export function expectOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(expectedMessage(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, name, value));
  }
  return value as T;
}

/**
 * Float32Array, optionally of an exact length. Never copies: the array (and its
 * byteOffset) goes to native code as is.
 */
export function expectFloat32Array(value: unknown, name: string, length?: number, lengthHint?: string): Float32Array {
  if (!(value instanceof Float32Array)) throw new TypeError(expectedMessage('Float32Array', name, value));
  if (length !== undefined && value.length !== length) {
    const hint = lengthHint ? ` (${lengthHint})` : '';
    throw new RangeError(expectedMessage(`Float32Array of length ${length}${hint}`, name, value));
  }
  return value;
}

/** Throws RangeError naming the first NaN/Infinity in `data`. */
export function expectAllFinite(data: Float32Array, name: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(`Expected finite values for ${name} but received ${v} at index ${i}`);
    }
  }
}

/** Plain options object or undefined. */
export function expectOptions(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(expectedMessage('options object', name, value));
  }
  return value as Record<string, unknown>;
}

/**
 * Most threads one native call or ONNX Runtime session may be given (classifier, backbone,
 * head, assignment alike). Far above any machine's core count: the cap only stops a typo
 * (threads: 1e6) from asking the OS for a million threads.
 */
export const MAX_THREADS = 1024;

/**
 * Most backbone worker threads. Each holds its own ONNX Runtime session (weights and arena),
 * so more workers than cores only costs memory; 64 is well past the useful range.
 */
export const MAX_WORKERS = 64;

/** Optional positive thread count, at most MAX_THREADS; undefined means "all hardware threads". */
export function expectThreads(value: unknown, name = 'threads'): number | undefined {
  if (value === undefined) return undefined;
  return expectPositiveInteger(value, name, MAX_THREADS);
}

/** Optional positive backbone worker count, at most MAX_WORKERS; undefined means the default. */
export function expectWorkers(value: unknown, name = 'workers'): number | undefined {
  if (value === undefined) return undefined;
  return expectPositiveInteger(value, name, MAX_WORKERS);
}
