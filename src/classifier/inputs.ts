/** Validation and bookkeeping of image inputs: paths, encoded bytes, or a tensor. */
import { BackboneError, ImageDecodeError } from '../errors.js';
import { expectedMessage } from '../validate.js';
import type { ImageInput, ImageTensor } from '../backbone/types.js';

/** Images as the classifier's methods accept them. */
export type ImageInputs = readonly ImageInput[] | ImageTensor;

/** True for a tensor input (as opposed to a list of images). */
export function isTensorInput(inputs: ImageInputs): inputs is ImageTensor {
  return !Array.isArray(inputs);
}

/**
 * Checks `inputs` and returns how many images it holds. Lists hold paths
 * (non-empty strings) or Uint8Arrays (Buffers); tensors are
 * `{ data: Float32Array, dims: [N, 3, S, S] }` with matching length.
 */
export function countInputs(inputs: unknown, name: string): number {
  if (Array.isArray(inputs)) {
    inputs.forEach((item, i) => {
      if (typeof item === 'string') {
        if (item.length === 0) throw new TypeError(expectedMessage('non-empty file path', `${name}[${i}]`, item));
      } else if (!(item instanceof Uint8Array)) {
        throw new TypeError(expectedMessage('file path string or Uint8Array/Buffer of encoded image bytes', `${name}[${i}]`, item));
      }
    });
    return inputs.length;
  }
  if (inputs === null || typeof inputs !== 'object') {
    throw new TypeError(expectedMessage('array of images or tensor { data, dims }', name, inputs));
  }
  const { data, dims } = inputs as { data?: unknown; dims?: unknown };
  if (!(data instanceof Float32Array)) throw new TypeError(expectedMessage('Float32Array', `${name}.data`, data));
  if (!Array.isArray(dims) || dims.length !== 4 || !dims.every((d) => Number.isInteger(d) && d >= 0) || dims[1] !== 3) {
    throw new TypeError(expectedMessage('dims [N, 3, S, S] of non-negative integers', `${name}.dims`, dims));
  }
  const [n, c, h, w] = dims as number[];
  if (h !== w) throw new RangeError(expectedMessage('square images (dims[2] === dims[3])', `${name}.dims`, dims));
  const expected = n! * c! * h! * w!;
  if (data.length !== expected) {
    throw new RangeError(expectedMessage(`Float32Array of length ${expected} (N x 3 x S x S)`, `${name}.data`, data));
  }
  return n!;
}

/** How an input is named in error messages: its path, or `<buffer #i>`. */
export function describeSource(inputs: ImageInputs, i: number): string {
  if (isTensorInput(inputs)) return `<tensor #${i}>`;
  const item = inputs[i];
  return typeof item === 'string' ? item : `<buffer #${i}>`;
}

/**
 * The backbone's per-image error as the package's error: an ImageDecodeError naming the image,
 * or the BackboneError of a failed worker job as is (that is not the image's fault).
 */
export function asImageError(error: Error, source: string): ImageDecodeError | BackboneError {
  if (error instanceof ImageDecodeError || error instanceof BackboneError) return error;
  return new ImageDecodeError(source, error.message, { cause: error });
}
