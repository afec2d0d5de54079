/**
 * Progress output for long runs (eval's episodes, classify's images): an in-place bar (done,
 * rate, ETA) on a TTY, plain lines at a modest cadence otherwise (logs, CI, pipes), and nothing
 * at all when silent (--json, --quiet).
 */
import { formatMs, percent } from './format.js';

/** What the progress display needs per update. */
export interface ProgressState {
  done: number;
  total: number;
  rate: number;
  etaMs: number;
  /** Running accuracy, when known (eval; classify when the queries have a truth). */
  accuracy?: number;
  /** What is counted (default 'episodes'). */
  unit?: 'episodes' | 'images';
}

/** A writable text stream (process.stderr in practice). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Renders one bar line, e.g. `[#####.....]  300/600 episodes  8.1 ep/s  ETA 37.0 s  acc 51.20%`. */
export function renderBar(s: ProgressState, width = 24): string {
  const filled = s.total > 0 ? Math.round((width * s.done) / s.total) : 0;
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const pad = String(s.total).length;
  const unit = s.unit ?? 'episodes';
  const rate = `${s.rate.toFixed(unit === 'images' ? 1 : 2)} ${unit === 'images' ? 'img/s' : 'ep/s'}`;
  const acc = s.accuracy === undefined ? '' : `  acc ${percent(s.accuracy)}`;
  return `[${bar}] ${String(s.done).padStart(pad)}/${s.total} ${unit}  ${rate}  ETA ${formatMs(s.etaMs)}${acc}`;
}

/**
 * Progress reporter. `silent` drops the bar and the plain lines (notes still print: they are
 * warnings the user must see).
 * @example
 * const progress = new Progress(process.stderr);
 * progress.update({ done: 1, total: 600, rate: 8, etaMs: 75000, accuracy: 0.4 });
 * progress.finish();
 */
export class Progress {
  readonly #stream: ProgressStream;
  readonly #tty: boolean;
  readonly #silent: boolean;
  #lastDraw = 0;
  #lastPlain = -1;
  #drawn = false;

  constructor(stream: ProgressStream, tty = stream.isTTY === true, silent = false) {
    this.#stream = stream;
    this.#tty = tty;
    this.#silent = silent;
  }

  update(s: ProgressState): void {
    if (this.#silent) return;
    if (this.#tty) {
      const now = Date.now();
      // Redraw at most ~10 times a second; always draw the last one.
      if (s.done < s.total && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      this.#stream.write(`\r${renderBar(s)}\x1b[K`);
      this.#drawn = true;
      return;
    }
    // Plain lines: about 20 per run, plus the first and the last episode.
    const step = Math.max(1, Math.floor(s.total / 20));
    if (s.done === 1 || s.done === s.total || s.done - this.#lastPlain >= step) {
      this.#lastPlain = s.done;
      this.#stream.write(`${renderBar(s)}\n`);
    }
  }

  /** Ends the bar line so that later output starts on a fresh line. */
  finish(): void {
    if (this.#tty && this.#drawn) this.#stream.write('\n');
    this.#drawn = false;
  }

  /** Writes a message without corrupting the bar. */
  note(text: string): void {
    if (this.#tty && this.#drawn) {
      this.#stream.write(`\r\x1b[K${text}\n`);
    } else {
      this.#stream.write(`${text}\n`);
    }
  }
}
