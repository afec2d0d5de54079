/**
 * Lowers the scheduling priority of the calling worker thread (Linux: nice is per thread, and
 * threads created later — ONNX Runtime's intra-op pool — inherit it). With ONNX Runtime using
 * every core, the JS main thread otherwise waits behind its threads for whole time slices:
 * the event loop then stalls although it has almost no work of its own. Niced workers still get
 * all idle CPU, so throughput is unchanged when the main thread has nothing to do.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** nice value for backbone worker threads (0 = normal, 19 = lowest). */
export const WORKER_NICE = 10;

/**
 * Returns true when the priority was lowered; false where threads cannot be addressed
 * (not Linux) or the OS refused — both harmless.
 * @example lowerCurrentThreadPriority(); // in a worker, before creating the session
 */
export function lowerCurrentThreadPriority(nice = WORKER_NICE): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // /proc/thread-self -> "<pid>/task/<tid>"; setpriority(PRIO_PROCESS, tid) affects that thread only.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    // Never raise a priority: a process already niced past `nice` stays as it is.
    setPriority(tid, Math.max(getPriority(tid), nice));
    return true;
  } catch {
    return false;
  }
}

/**
 * Lowers the priority of this process's threads named `name` (Linux /proc/self/task/<tid>/comm)
 * that still run at a higher priority; returns how many were lowered. libvips decodes on its
 * own "libvips worker" threads, created by libuv's pool at normal priority, so they compete
 * with the main thread for a core while a batch decodes, as ONNX Runtime's threads did.
 * @example lowerThreadsNamed('libvips worker');
 */
export function lowerThreadsNamed(name: string, nice = WORKER_NICE): number {
  if (process.platform !== 'linux') return 0;
  let lowered = 0;
  try {
    for (const entry of readdirSync('/proc/self/task')) {
      const tid = Number(entry);
      try {
        if (readFileSync(`/proc/self/task/${entry}/comm`, 'latin1').trim() !== name) continue;
        if (getPriority(tid) >= nice) continue;
        setPriority(tid, nice);
        lowered++;
      } catch {
        // The thread ended meanwhile, or the OS refused: harmless.
      }
    }
  } catch {
    return lowered;
  }
  return lowered;
}
