/**
 * Measures event-loop stalls while a promise runs, separating the two causes of a late timer:
 * the loop was busy running callbacks (our JavaScript blocked it) or the thread waited for a
 * CPU after waking up (an overloaded machine). A 1 ms timer chain records, between two turns,
 * the wall-clock gap and the loop's active time from performance.eventLoopUtilization()
 * (libuv counts time outside its poll call as active, so waiting in the kernel's run queue
 * before poll returns is not blamed on the loop; preemption in the middle of a callback is).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface StallReport {
  /** Longest wall-clock gap between two turns of the timer chain, ms. */
  maxGapMs: number;
  /** Longest active (non-idle) loop time between two turns, ms. */
  maxBusyMs: number;
  /**
   * Longest CPU time the main thread itself ran between two turns, ms (Linux: from the
   * thread's schedstat, so time spent preempted by other processes is not counted); NaN
   * where the platform does not report it.
   */
  maxCpuMs: number;
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;

/**
 * Reads the nanoseconds the main thread has run on a CPU (NaN when unknown) without
 * allocating per call, so that measuring does not itself cause garbage collections.
 */
function mainThreadCpuReader(): { read: () => number; close: () => void } {
  let fd: number;
  try {
    fd = openSync(SCHEDSTAT, 'r');
  } catch {
    return { read: () => NaN, close: () => undefined };
  }
  const buf = Buffer.alloc(64);
  const read = (): number => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    let v = 0;
    for (let i = 0; i < n; i++) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    return v;
  };
  return { read, close: () => closeSync(fd) };
}

export async function measureStalls(work: () => Promise<unknown>): Promise<StallReport> {
  let maxGapMs = 0;
  let maxBusyMs = 0;
  let maxCpuMs = 0;
  const cpuReader = mainThreadCpuReader();
  let lastCpu = cpuReader.read();
  let lastT = performance.now();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const t = performance.now();
    const elu = performance.eventLoopUtilization();
    maxGapMs = Math.max(maxGapMs, t - lastT);
    maxBusyMs = Math.max(maxBusyMs, elu.active - lastElu.active);
    const cpu = cpuReader.read();
    maxCpuMs = Number.isNaN(cpu) ? NaN : Math.max(maxCpuMs, (cpu - lastCpu) / 1e6);
    lastCpu = cpu;
    lastT = t;
    lastElu = elu;
    if (running) timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  try {
    await work();
  } finally {
    running = false;
  }
  clearTimeout(timer);
  tick();
  cpuReader.close();
  return { maxGapMs, maxBusyMs, maxCpuMs };
}
