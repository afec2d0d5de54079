/**
 * A fixed pool of backbone workers. Jobs go to the worker with the fewest jobs in flight;
 * results come back with their ArrayBuffers transferred.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, spawnModuleWorker } from './spawn_worker.js';
import type { JobMessage, JobResult, WorkerInit, WorkerReply } from './protocol.js';

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  alive: boolean;
  closed?: () => void;
}

/** Thrown by WorkerPool.start when a worker could not create its session. */
export class WorkerInitError extends Error {}

export class WorkerPool {
  private nextId = 1;
  private constructor(private readonly slots: Slot[]) {}

  /**
   * Starts `size` workers and waits until every one has its session.
   * @example const pool = await WorkerPool.start(2, init);
   */
  static async start(size: number, init: WorkerInit): Promise<WorkerPool> {
    const url = siblingModule(import.meta.url, 'pool_worker');
    const slots: Slot[] = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const worker = spawnModuleWorker(url, { workerData: init });
      const slot: Slot = { worker, pending: new Map(), alive: true };
      slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (m: WorkerReply): void => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'initError') reject(new WorkerInitError(m.message));
          };
          worker.on('message', onMessage);
          worker.once('error', (e) => reject(e));
          worker.once('exit', (code) => reject(new WorkerInitError(`backbone worker exited with code ${code} while starting`)));
        }),
      );
    }
    const pool = new WorkerPool(slots);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    for (const slot of slots) pool.attach(slot);
    return pool;
  }

  private attach(slot: Slot): void {
    const w = slot.worker;
    w.removeAllListeners('message');
    w.removeAllListeners('error');
    w.removeAllListeners('exit');
    w.on('message', (m: WorkerReply) => {
      if (m.type === 'result' || m.type === 'jobError') {
        const p = slot.pending.get(m.id);
        slot.pending.delete(m.id);
        if (!p) return;
        if (m.type === 'result') p.resolve(m);
        else p.reject(new Error(`backbone worker failed: ${m.message}`));
      } else if (m.type === 'closed') slot.closed?.();
    });
    const die = (why: string): void => {
      if (!slot.alive) return;
      slot.alive = false;
      for (const p of slot.pending.values()) p.reject(new Error(`backbone worker stopped: ${why}`));
      slot.pending.clear();
      slot.closed?.();
    };
    w.on('error', (e) => die(e.message));
    w.on('exit', (code) => die(`exit code ${code}`));
  }

  /** Number of live workers. */
  get size(): number {
    return this.slots.filter((s) => s.alive).length;
  }

  /**
   * Runs one job on the least busy worker; `transfer` lists buffers to move, not copy.
   * @example const r = await pool.run({ type: 'images', images: ['a.jpg'] }, []);
   */
  run(job: DistributiveOmit<JobMessage, 'id'>, transfer: ArrayBuffer[]): Promise<JobResult> {
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0) return Promise.reject(new Error('no backbone worker is running'));
    const slot = live.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise<JobResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...job, id }, transfer);
    });
  }

  /** Lets every worker finish its jobs and release its session, then stops the threads. */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.alive) {
          await new Promise<void>((resolve) => {
            slot.closed = resolve;
            slot.worker.postMessage({ type: 'close' });
          });
        }
      }),
    );
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) s.alive = false;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
