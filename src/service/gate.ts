/**
 * Bounded concurrency with a bounded wait queue. At most `maxConcurrent` requests do
 * model work at once and at most `maxQueue` wait for a slot; anything beyond is refused
 * at once (503 + Retry-After) instead of piling up in memory. A slot is held until the
 * work really ends, even when the client was already answered with a timeout: the
 * backbone cannot be interrupted, so freeing the slot early would let abandoned work
 * accumulate without bound.
 */
import { HttpError } from './http_errors.js';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The concurrency gate.
 * @example
 * const gate = new Gate(4, 16);
 * const result = await gate.run(30_000, () => classifier.classify(images));
 */
export class Gate {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: Waiter[] = [];
  /** Smoothed duration of one unit of work (ms), for Retry-After. */
  #meanMs = 100;

  constructor(maxConcurrent: number, maxQueue: number) {
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }

  /** Requests doing model work now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Runs `work` in a slot. Rejects with a 503 HttpError when the queue is full
   * (ERR_LWFM_OVERLOADED) or when `timeoutMs` passes before the work ends
   * (ERR_LWFM_TIMEOUT); in the latter case the work still finishes in its slot.
   */
  async run<T>(timeoutMs: number, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    await this.#acquire(timeoutMs, signal);
    const start = performance.now();
    const running = work().finally(() => {
      this.#meanMs = 0.8 * this.#meanMs + 0.2 * (performance.now() - start);
      this.#release();
    });
    const left = deadline - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timeoutError(timeoutMs)), Math.max(0, left));
    });
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
      running.catch(() => undefined); // a late failure after a timeout reply is not unhandled
    }
  }

  /** Seconds a refused client should wait: the time the queue ahead would take to drain, at least 1. */
  retryAfterSeconds(): number {
    const ahead = this.#active + this.#queue.length;
    return Math.max(1, Math.ceil((ahead * this.#meanMs) / this.maxConcurrent / 1000));
  }

  #acquire(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#active < this.maxConcurrent) {
      this.#active++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(
        new HttpError(
          503,
          'ERR_LWFM_OVERLOADED',
          `Server busy: ${this.#active} requests running and ${this.#queue.length} waiting (the limits); retry later`,
          {
            'retry-after': String(this.retryAfterSeconds()),
          },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        timer: setTimeout(() => this.#drop(waiter, this.#timeoutError(timeoutMs)), timeoutMs),
      };
      // A client that went away while waiting gives its place up.
      const onAbort = (): void => this.#drop(waiter, new HttpError(499, 'ERR_LWFM_CLIENT_CLOSED', 'Client closed the request'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #drop(waiter: Waiter, err: Error): void {
    const i = this.#queue.indexOf(waiter);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.reject(err);
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(); // the slot passes straight to the next waiter
    } else {
      this.#active--;
    }
  }

  #timeoutError(timeoutMs: number): HttpError {
    return new HttpError(503, 'ERR_LWFM_TIMEOUT', `Request took longer than the ${timeoutMs} ms limit`, {
      'retry-after': String(this.retryAfterSeconds()),
    });
  }
}
