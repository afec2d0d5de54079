/**
 * classifyStream (order, sources, failures, laziness and early stop over an endless input)
 * and AbortSignal on classify / classifyStream / embed / evaluate, on the real default model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FewShotClassifier } from '../src/classifier/classifier.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { ImageDecodeError, LwfmError } from '../src/errors.js';
import type { StreamedResult } from '../src/classifier/stream.js';

const SAMPLES = join(import.meta.dirname, '..', 'samples');
let cache: string;
let classifier: FewShotClassifier;
let queries: string[];

beforeAll(async () => {
  cache = mkdtempSync(join(tmpdir(), 'lwfm-stream-'));
  process.env.LWFM_SPM_CACHE = cache;
  classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
  const folder = scanImageFolder(SAMPLES);
  await classifier.setSupport(
    folder.classes.map((c) => c.files[0]!),
    folder.classes.map((c) => c.name),
  );
  queries = folder.classes.flatMap((c) => c.files.slice(1, 7));
});

afterAll(async () => {
  await classifier?.dispose();
  delete process.env.LWFM_SPM_CACHE;
  rmSync(cache, { recursive: true, force: true });
});

async function collect(stream: AsyncIterable<StreamedResult>): Promise<StreamedResult[]> {
  const out: StreamedResult[] = [];
  for await (const r of stream) out.push(r);
  return out;
}

describe('classifyStream', () => {
  it('yields one result per input, in input order, matching classify()', async () => {
    async function* slowly(): AsyncGenerator<string> {
      for (const q of queries) {
        await new Promise((r) => setImmediate(r));
        yield q;
      }
    }
    const streamed = await collect(classifier.classifyStream(slowly(), { batchSize: 7 }));
    const whole = await classifier.classify(queries);
    expect(streamed.map((r) => r.inputIndex)).toEqual(queries.map((_, i) => i));
    expect(streamed.map((r) => r.source)).toEqual(queries);
    streamed.forEach((r, i) => {
      const w = whole[i]!;
      expect(r.error).toBeUndefined();
      expect(r.label).toBe(w.label);
      r.logits!.forEach((l, k) => expect(l).toBeCloseTo(w.logits![k]!, 3));
    });
  });

  it('reports unreadable inputs in their own slots, named by their place in the input', async () => {
    const good = readFileSync(queries[0]!);
    const inputs = [queries[1]!, good, Buffer.from('not an image'), join(cache, 'missing.png'), queries[2]!];
    const results = await collect(classifier.classifyStream(inputs, { batchSize: 2 }));
    expect(results.map((r) => r.source)).toEqual([queries[1], '<buffer #1>', '<buffer #2>', join(cache, 'missing.png'), queries[2]]);
    expect(results.map((r) => Boolean(r.error))).toEqual([false, false, true, true, false]);
    expect(results[2]!.error).toBeInstanceOf(ImageDecodeError);
    expect(results[2]!.error!.source).toBe('<buffer #2>');
    expect(results[2]!.error!.message).toMatch(/^Cannot read image <buffer #2>: /);
    expect(results[3]!.error!.source).toBe(join(cache, 'missing.png'));
  });

  it('reads the input only as results are consumed, and closes it on break', async () => {
    let pulled = 0;
    let closed = false;
    function* endless(): Generator<string> {
      try {
        for (;;) {
          pulled++;
          yield queries[pulled % queries.length]!;
        }
      } finally {
        closed = true;
      }
    }
    const batchSize = 4;
    let seen = 0;
    for await (const r of classifier.classifyStream(endless(), { batchSize })) {
      expect(r.inputIndex).toBe(seen);
      if (++seen === 10) break;
    }
    expect(closed).toBe(true);
    // At most the batch being scored plus two batches in the backbone beyond what was consumed.
    expect(pulled).toBeLessThanOrEqual(seen + 3 * batchSize);
  });

  it('checks its arguments at the call', () => {
    expect(() => classifier.classifyStream('a.jpg' as unknown as string[])).toThrow(TypeError);
    expect(() => classifier.classifyStream(42 as unknown as string[])).toThrow(TypeError);
    expect(() => classifier.classifyStream(queries, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => classifier.classifyStream(queries, { signal: 'x' as unknown as AbortSignal })).toThrow(TypeError);
    expect(() => classifier.classifyStream(queries, { signal: AbortSignal.abort() })).toThrow(/abort/i);
  });

  it('rejects a bad item when it reaches it, and needs a support set', async () => {
    await expect(collect(classifier.classifyStream([queries[0]!, 7 as unknown as string]))).rejects.toThrow(/inputs\[1\]/);
    const other = classifier.createSupportSet();
    expect(() => other.classifyStream(queries)).toThrow(LwfmError);
  });
});

describe('AbortSignal', () => {
  it('stops a stream: the next step rejects with the reason', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const r of classifier.classifyStream(queries, { batchSize: 4, signal: controller.signal })) {
        seen.push(r.inputIndex);
        if (seen.length === 2) controller.abort(new Error('stop now'));
      }
    })();
    await expect(run).rejects.toThrow('stop now');
    expect(seen.length).toBeLessThanOrEqual(4); // the rest of the scored batch at most
  });

  it('aborts classify, embed and evaluate', async () => {
    const controller = new AbortController();
    const pending = classifier.classify(queries, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(classifier.embed(queries, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const slow = new AbortController();
    const embedding = classifier.embed(queries, { signal: slow.signal });
    setTimeout(() => slow.abort(new Error('late')), 5);
    await expect(embedding).rejects.toThrow('late');
    await expect(classifier.evaluate(SAMPLES, { episodes: 3, query: 2, signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const evalAbort = new AbortController();
    const evaluation = classifier.evaluate(SAMPLES, {
      episodes: 1000,
      query: 2,
      signal: evalAbort.signal,
      onProgress: (p) => p.done === 2 && evalAbort.abort(),
    });
    await expect(evaluation).rejects.toMatchObject({ name: 'AbortError' });
    await expect(classifier.classify(queries, { signal: {} as AbortSignal })).rejects.toThrow(TypeError);
    // Still usable afterwards.
    expect((await classifier.classify(queries.slice(0, 2))).length).toBe(2);
  });
});
