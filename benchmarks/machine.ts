// One line describing where a benchmark ran, so RESULTS.md tables are never quoted without it.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export function describeMachine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const f = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
    flags = ['avx512f', 'avx2', 'fma'].filter((x) => f.includes(x)).join('+');
  } catch {
    // not Linux: leave the SIMD flags out
  }
  const mem = `${Math.round(totalmem() / 2 ** 30)} GiB`;
  return `${cpu}${flags ? ` (${flags})` : ''}, ${cpus().length} cores, ${mem}, Node ${process.version}, ${process.platform}-${process.arch}`;
}
