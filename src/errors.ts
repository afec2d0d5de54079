/**
 * Named error classes. Every error this package throws on purpose is a `TypeError`,
 * a `RangeError` or one of these, and carries a stable `code`.
 */

/**
 * Base class of the package's own errors.
 * @example
 * try { await classifier.classify(['missing.jpg']); }
 * catch (e) { if (e instanceof LwfmError) console.error(e.code, e.message); }
 */
export class LwfmError extends Error {
  /** Stable machine-readable code, e.g. `'ERR_LWFM_NATIVE_LOAD'`. */
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The native addon could not be loaded; the message lists every path tried.
 * @example
 * import { NativeLoadError } from 'lwfm-spm';
 * // thrown at import time when no build or prebuild fits this platform
 */
export class NativeLoadError extends LwfmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_LWFM_NATIVE_LOAD', options);
  }
}

/**
 * A device was requested that is not available (e.g. `device: 'cuda'` without a GPU).
 * @example
 * try { new Head({ channels: [512], device: 'cuda' }); }
 * catch (e) { if (e instanceof DeviceUnavailableError) console.log(e.message); }
 */
export class DeviceUnavailableError extends LwfmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_LWFM_DEVICE_UNAVAILABLE', options);
  }
}

/**
 * An object was used after `dispose()`.
 * @example
 * head.dispose();
 * await head.score(support, query); // rejects with DisposedError
 */
export class DisposedError extends LwfmError {
  constructor(what: string) {
    super(`${what} was used after dispose()`, 'ERR_LWFM_DISPOSED');
  }
}

/**
 * A model bundle is missing a file or its contents are inconsistent; names the file.
 * @example
 * try { await loadBundle('./my-model'); }
 * catch (e) { if (e instanceof ModelBundleError) console.error(e.file, e.message); }
 */
export class ModelBundleError extends LwfmError {
  /** Path of the offending file (or the bundle directory). */
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`Invalid model bundle file ${file}: ${problem}`, 'ERR_LWFM_MODEL_BUNDLE', options);
    this.file = file;
  }
}

/**
 * An image could not be read or decoded; names the image.
 * @example
 * const results = await classifier.classify(['ok.jpg', 'corrupt.jpg']);
 * // results[1] is an ImageDecodeError, results[0] still holds its prediction
 */
export class ImageDecodeError extends LwfmError {
  /** File path, or `<buffer #i>` for an in-memory input. */
  readonly source: string;
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(`Cannot read image ${source}: ${problem}`, 'ERR_LWFM_IMAGE', options);
    this.source = source;
  }
}

/**
 * The GPU failed while running work (out of memory, a driver or kernel error), as opposed to
 * being unavailable from the start (DeviceUnavailableError). Under `device: 'auto'` the head
 * runs such a call on the CPU instead.
 * @example
 * try { await cudaSupport.score(queries); }
 * catch (e) { if (e instanceof CudaError) console.error('GPU failed:', e.message); }
 */
export class CudaError extends LwfmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'ERR_LWFM_CUDA', options);
  }
}
