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
 * Downloading model weights failed or the file did not verify (HTTP status, size or SHA-256
 * mismatch, a stalled or interrupted transfer, an HTML page instead of the file). Nothing
 * that failed is left where a later run would use it.
 * @example
 * try { await buildPretrainedBundle({ arch: 'resnet18', out: './r18' }); }
 * catch (e) { if (e instanceof ModelDownloadError) console.error(e.url, e.status, e.message); }
 */
export class ModelDownloadError extends LwfmError {
  /** The URL requested (before redirects). */
  readonly url: string;
  /** HTTP status of the failing response, when there was one. */
  readonly status: number | undefined;
  constructor(url: string, problem: string, options?: { cause?: unknown; status?: number }) {
    super(`Download of ${url} failed: ${problem}`, 'ERR_LWFM_MODEL_DOWNLOAD', options);
    this.url = url;
    this.status = options?.status;
  }
}

/**
 * Why an image failed, as ImageDecodeError's `reason`:
 * - `too-many-pixels`: width x height exceeds `maxImagePixels` (rejected from the header, before decoding);
 * - `file-too-large`: the file has more bytes than an image within `maxImagePixels` can need;
 * - `not-a-file`: the path is a directory, FIFO, device...; `missing`: no such file; `unreadable`: permissions, I/O;
 * - `unsupported-format`: not an image format the decoder knows;
 * - `truncated`: the data ends early; `corrupt`: the decoder rejected the data.
 * @example
 * if (r.error?.reason === 'too-many-pixels') console.warn('image too large:', r.error.source);
 */
export type ImageDecodeReason =
  'too-many-pixels' | 'file-too-large' | 'not-a-file' | 'missing' | 'unreadable' | 'unsupported-format' | 'truncated' | 'corrupt';

/**
 * An image could not be read or decoded; names the image, and says why in `reason`
 * (`code` is always ERR_LWFM_IMAGE).
 * @example
 * const results = await classifier.classify(['ok.jpg', 'corrupt.jpg']);
 * // results[1].error is an ImageDecodeError, results[0] still holds its prediction
 * console.log(results[1].error?.reason); // 'truncated'
 */
export class ImageDecodeError extends LwfmError {
  /** File path, or `<buffer #i>` for an in-memory input. */
  readonly source: string;
  /** Why the image failed (stable; see ImageDecodeReason). */
  readonly reason: ImageDecodeReason;
  constructor(source: string, problem: string, options?: { cause?: unknown; reason?: ImageDecodeReason }) {
    super(`Cannot read image ${source}: ${problem}`, 'ERR_LWFM_IMAGE', options);
    this.source = source;
    this.reason = options?.reason ?? 'corrupt';
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

/**
 * A backbone worker failed as a whole (it crashed, ran out of memory, or its ONNX Runtime
 * session failed), as opposed to one image failing to decode (ImageDecodeError). Each image
 * of the failed job carries one, naming it; the pool starts a replacement worker, so a retry
 * may succeed.
 * @example
 * const { errors } = await classifier.embed(files);
 * if (errors.some((e) => e instanceof BackboneError)) console.error('backbone failure, retry later');
 */
export class BackboneError extends LwfmError {
  /** The image whose job failed: file path, `<buffer #i>` or `<tensor row #i>`. */
  readonly source: string;
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(`Backbone worker failed while embedding ${source}: ${problem}`, 'ERR_LWFM_BACKBONE', options);
    this.source = source;
  }
}
