/**
 * What the shipped microbenchmarks (`lwfm-spm bench match|head`) share: timing with warm-up and
 * medians, seeded inputs, and the machine line that every result is quoted with.
 */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { nativeInfo } from '../../native_info.js';

/**
 * Runs `fn` `warmup` times untimed (first-call costs: page faults, thread pool start, caches),
 * then `repeats` times timed; returns the milliseconds of each timed run.
 */
export async function timeRuns(fn: () => unknown, warmup: number, repeats: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Where a benchmark ran: CPU, the SIMD path the addon used (and the best this CPU has), cores, memory, Node, platform. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  let flags = '';
  try {
    const f = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(' ') ?? [];
    flags = ['avx512f', 'avx2', 'fma'].filter((x) => f.includes(x)).join('+');
  } catch {
    // not Linux: the addon's own report below still says which path ran
  }
  const n = nativeInfo();
  return (
    `${cpu}${flags ? ` (${flags})` : ''}, ${cpus().length} hardware threads, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `addon SIMD path ${n.simd} (CPU supports ${n.cpuSimd}; ${n.origin}), Node ${process.version}, ${process.platform}-${process.arch}`
  );
}
