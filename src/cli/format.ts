/** Text formatting for CLI output. */
import type { StageTimings } from '../classifier/timings.js';

/** Milliseconds as "12.3 ms" / "4.56 s" / "2m05s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Stage timings as one line a reader can add up: the wall-clock stages first (embed + head +
 * other = total), then the backbone workers' busy times, which overlap each other inside embed.
 */
export function timingsLine(t: StageTimings): string {
  return (
    `Timings (wall clock): embed ${formatMs(t.embed)} + head ${formatMs(t.head)} + other ${formatMs(t.other)} = total ${formatMs(t.total)}; ` +
    `inside embed, the workers decoded for ${formatMs(t.decode)} and ran the network for ${formatMs(t.backbone)}, overlapping`
  );
}

/** Fraction as a percentage with two decimals. */
export function percent(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** Left-aligned text table with a header row. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The sentence every output of the untrained default model carries. */
export const UNTRAINED_NOTE =
  'NOTE: this model is UNTRAINED (seeded random weights): it shows the pipeline and its speed, not real accuracy. ' +
  "Convert a trained checkpoint with 'lwfm-spm convert' and pass --model DIR for meaningful predictions.";
