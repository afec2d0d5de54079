/**
 * A worker's FewShotClassifier holds one support set at a time, and `classify` reads
 * it after embedding. The gate makes that safe with concurrent jobs: jobs wanting the
 * set (id and version) now loaded run together; a job wanting another one waits until
 * they are done, then the set is switched (importSupport) and it runs. So every job is
 * scored against exactly the version it asked for, never a mix. Waiting jobs are
 * served in arrival order: once a job waits for a switch, newer jobs for the loaded set
 * queue behind it, so no set starves.
 */

interface Waiter {
  key: string;
  load: () => Promise<void>;
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
}

/** Serializes support set switches between concurrent jobs of one worker. */
export class SupportGate {
  #current: string | undefined;
  #active = 0;
  #switching = false;
  readonly #waiters: Waiter[] = [];

  /**
   * Resolves once the set named `key` is loaded (calling `load` to switch if needed) and
   * no job needs another; returns the release to call when the job is done.
   */
  enter(key: string, load: () => Promise<void>): Promise<() => void> {
    if (!this.#switching && this.#current === key && this.#waiters.length === 0) return Promise.resolve(this.#admit());
    return new Promise((resolve, reject) => {
      this.#waiters.push({ key, load, resolve, reject });
      void this.#pump();
    });
  }

  #admit(): () => void {
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
      if (this.#active === 0) void this.#pump();
    };
  }

  async #pump(): Promise<void> {
    if (this.#switching || this.#active > 0 || this.#waiters.length === 0) return;
    const first = this.#waiters[0]!;
    if (first.key !== this.#current) {
      this.#switching = true;
      try {
        await first.load();
        this.#current = first.key;
      } catch (err) {
        // The set could not be loaded: that job fails, the classifier's set is unknown now.
        this.#current = undefined;
        this.#waiters.shift();
        first.reject(err);
        this.#switching = false;
        void this.#pump();
        return;
      }
      this.#switching = false;
    }
    // Admit the leading run of waiters for the loaded set.
    while (this.#waiters.length > 0 && this.#waiters[0]!.key === this.#current) {
      this.#waiters.shift()!.resolve(this.#admit());
    }
  }
}
