/**
 * The addon's errors as the package's named errors. The native side (native/bindings/
 * safe_call.h) throws only TypeError, RangeError, or an Error with a stable `code`; this turns
 * the coded ones into instances of the matching class (src/errors.ts), so that every error
 * from a native call is `instanceof LwfmError` or a TypeError/RangeError, as the README's error
 * table promises. binding.ts applies it to every function of the addon, once.
 */
import { CudaError, DeviceUnavailableError, DisposedError, LwfmError } from './errors.js';

/**
 * The named error for an error thrown by the addon; anything else passes through unchanged
 * (TypeError, RangeError, or an exception a caller's own getter threw while being read).
 * @example
 * try { native.headScoreSync(h, s, q); } catch (e) { throw fromNative(e); }
 */
export function fromNative(err: unknown): unknown {
  if (err instanceof LwfmError || !(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_LWFM_')) return err;
  if (code === 'ERR_LWFM_DEVICE_UNAVAILABLE') return new DeviceUnavailableError(err.message, { cause: err });
  if (code === 'ERR_LWFM_CUDA') return new CudaError(err.message, { cause: err });
  if (code === 'ERR_LWFM_DISPOSED') {
    const what = /^(.*) was used after dispose\(\)$/.exec(err.message)?.[1];
    if (what !== undefined) return new DisposedError(what);
  }
  return new LwfmError(err.message, code, { cause: err });
}

/**
 * `binding` with each function wrapped so that what it throws, or its promise rejects with,
 * goes through fromNative.
 * @example export const native = withNamedErrors(require('./build/Release/lwfm_spm.node'));
 */
export function withNamedErrors<T extends object>(binding: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(binding)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    out[name] = function (this: unknown, ...args: unknown[]): unknown {
      let result: unknown;
      try {
        result = fn.apply(binding, args);
      } catch (err) {
        throw fromNative(err);
      }
      if (result instanceof Promise) {
        return result.catch((err: unknown) => {
          throw fromNative(err);
        });
      }
      return result;
    };
  }
  return out as T;
}
