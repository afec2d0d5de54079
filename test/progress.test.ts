import { describe, expect, it } from 'vitest';
import { Progress, renderBar } from '../src/cli/progress.js';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (t: string) => chunks.push(t) } };
}

describe('progress output', () => {
  it('renders episodes done, rate, ETA and running accuracy', () => {
    const line = renderBar({ done: 300, total: 600, rate: 8.123, etaMs: 37_000, accuracy: 0.512 }, 10);
    expect(line).toBe('[#####.....] 300/600 episodes  8.12 ep/s  ETA 37.00 s  acc 51.20%');
  });

  it('writes about 20 plain lines (first and last included) when not a TTY', () => {
    const { chunks, stream } = sink(false);
    const p = new Progress(stream);
    for (let done = 1; done <= 600; done++) p.update({ done, total: 600, rate: 1, etaMs: 0, accuracy: 0.5 });
    p.finish();
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(20);
    expect(chunks.length).toBeLessThanOrEqual(22);
    expect(chunks[0]).toContain('  1/600');
    expect(chunks.at(-1)).toContain('600/600');
  });

  it('redraws one line in place on a TTY and ends it on finish', () => {
    const { chunks, stream } = sink(true);
    const p = new Progress(stream);
    p.update({ done: 1, total: 3, rate: 1, etaMs: 2000, accuracy: 1 });
    p.update({ done: 2, total: 3, rate: 1, etaMs: 1000, accuracy: 1 }); // throttled
    p.note('warning: x');
    p.update({ done: 3, total: 3, rate: 1, etaMs: 0, accuracy: 1 }); // the last one always draws
    p.finish();
    expect(chunks.map((c) => c.slice(0, 1))).toEqual(['\r', '\r', '\r', '\n']);
    expect(chunks[1]).toContain('warning: x\n');
    expect(chunks[2]).toContain('3/3');
  });

  it('counts images (classify) and leaves the accuracy out when no query has a truth', () => {
    expect(renderBar({ done: 64, total: 1000, rate: 41.26, etaMs: 22_700, unit: 'images' }, 10)).toBe(
      '[#.........]   64/1000 images  41.3 img/s  ETA 22.70 s',
    );
  });

  it('prints nothing when silent (--json, --quiet), except notes', () => {
    for (const tty of [true, false]) {
      const { chunks, stream } = sink(tty);
      const p = new Progress(stream, tty, true);
      for (let done = 1; done <= 10; done++) p.update({ done, total: 10, rate: 1, etaMs: 0, accuracy: 1 });
      p.finish();
      expect(chunks).toEqual([]);
      p.note('warning: y');
      expect(chunks).toEqual(['warning: y\n']);
    }
  });
});
