/**
 * Per-key serialization: operations on one key run one after another in call order,
 * operations on different keys run concurrently. The registry uses it so that two
 * PATCHes of one support set never drop each other's images, the store so that two
 * writes of one file land in call order.
 */

/**
 * The queue of pending operations per key.
 * @example
 * const serial = new KeyedSerial();
 * await serial.run('cats', async () => update('cats'));
 */
export class KeyedSerial {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `op` after every earlier operation on `key` settled; resolves or rejects as `op` does. */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(op);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every operation started so far (and any they queued) has settled. */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all([...this.#tails.values()]);
  }
}
