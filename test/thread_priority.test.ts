/**
 * Backbone workers run at a lower priority than the JS main thread (and ONNX Runtime's
 * intra-op threads inherit it), so a busy backbone does not push the event loop off the CPU.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Backbone } from '../src/backbone/backbone.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { WORKER_NICE } from '../src/backbone/thread_priority.js';

function niceOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const linux = process.platform === 'linux';
const mainNice = linux ? niceOf(readFileSync('/proc/thread-self/stat', 'utf8')) : 0;
const applicable = linux && mainNice < WORKER_NICE;
if (!linux) console.warn('[thread_priority.test] skipped: per-thread nice values are read from Linux /proc');
else if (!applicable) console.warn(`[thread_priority.test] skipped: this process already runs at nice ${mainNice} >= ${WORKER_NICE}`);

describe('backbone worker thread priority', () => {
  it.skipIf(!applicable /* not Linux or already niced: reason printed above */)(
    'lowers the workers and their ONNX Runtime threads, never the main thread',
    async () => {
      const before = new Set(readdirSync('/proc/self/task'));
      const backbone = await Backbone.create(await defaultBundle(), { device: 'cpu', workers: 1, threads: 2 });
      try {
        await backbone.embed({ data: new Float32Array(2 * 3 * 84 * 84), dims: [2, 3, 84, 84] });
        const niced = readdirSync('/proc/self/task')
          .filter((t) => !before.has(t))
          .filter((t) => niceOf(readFileSync(`/proc/self/task/${t}/stat`, 'utf8')) === WORKER_NICE);
        // the worker's JS thread plus at least one intra-op thread of its session
        expect(niced.length).toBeGreaterThanOrEqual(2);
        expect(niceOf(readFileSync('/proc/thread-self/stat', 'utf8'))).toBe(mainNice);
      } finally {
        await backbone.dispose();
      }
    },
  );
});
