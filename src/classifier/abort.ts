/**
 * AbortSignal support of classify / classifyStream / embed / evaluate. An abort rejects
 * the call at once with the signal's reason (an AbortError DOMException by default); work
 * already handed to a backbone worker or the native head finishes there and its result
 * is dropped, since ONNX Runtime and the head cannot be interrupted mid-run.
 */
import { expectOptions, expectedMessage } from '../validate.js';

/**
 * Options with only a signal (embed, classify).
 * @example
 * const controller = new AbortController();
 * const results = await classifier.classify(files, { signal: controller.signal });
 */
export interface SignalOptions {
  /** Aborts the call: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Checks `options.signal` (undefined or an AbortSignal). */
export function checkSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) throw new TypeError(expectedMessage('AbortSignal', name, value));
  return value;
}

/** The signal of an `{ signal? }` options argument, checked. */
export function signalOf(options: unknown): AbortSignal | undefined {
  return checkSignal(expectOptions(options, 'options').signal, 'options.signal');
}

/** `work`, or a rejection with the signal's reason as soon as it aborts (whichever comes first). */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined); // its outcome no longer matters
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
