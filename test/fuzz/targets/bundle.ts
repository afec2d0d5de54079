/**
 * loadBundle on mutated bundles: bytes of model.json, backbone.onnx and
 * matcher.safetensors flipped, cut, repeated or replaced; JSON fields set to odd values.
 * Every outcome must be a loaded bundle or a ModelBundleError naming the file.
 */
import fc from 'fast-check';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../../../src/model/bundle.js';
import { ModelBundleError } from '../../../src/errors.js';
import { matcherTensors, smallConfig, writeSmallBundle } from '../../helpers/small_bundle.js';
import { check, runsFor } from '../contract.js';

const FILES = ['model.json', 'backbone.onnx', 'matcher.safetensors'] as const;

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bit: fc.integer({ min: 0, max: 7 }),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('field' as const),
    key: fc.constantFrom('taps', 'channels', 'featureSize', 'crop', 'resize', 'mean', 'temperature', 'topK', 'schemaVersion', 'pooling'),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
);

/** Offsets near the start and end carry the structure (headers, lengths); bias towards them. */
function offsetOf(at: number, length: number): number {
  const biased = at < 0.5 ? Math.pow(at * 2, 3) / 2 : 1 - Math.pow((1 - at) * 2, 3) / 2;
  return Math.min(length - 1, Math.max(0, Math.floor(biased * length)));
}

export default async function fuzzBundle(seed: number): Promise<number> {
  const runs = runsFor(80);
  const root = mkdtempSync(join(tmpdir(), 'lwfm-fuzz-bundle-'));
  try {
    const base = writeSmallBundle(join(root, 'base'), { matcher: matcherTensors([64]) });
    const originals = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(base, f))]));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), mutation, async (file, m) => {
        const dir = join(root, `case${n++}`);
        cpSync(base, dir, { recursive: true });
        let bytes: Buffer = Buffer.from(originals[file]!);
        if (m.kind === 'field') {
          if (file !== 'model.json') return;
          bytes = Buffer.from(JSON.stringify({ ...smallConfig(), [m.key]: m.value }));
        } else if (m.kind === 'flip') {
          for (let i = 0; i < m.count; i++) bytes[offsetOf((m.at + i * 0.013) % 1, bytes.length)]! ^= 1 << m.bit;
        } else if (m.kind === 'cut') {
          bytes = bytes.subarray(0, offsetOf(m.at, bytes.length));
        } else {
          const at = offsetOf(m.at, bytes.length);
          bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
        }
        writeFileSync(join(dir, file), bytes);
        try {
          const b = await loadBundle(dir);
          check(b.config.channels.length === b.config.taps.length, 'loaded a bundle whose taps and channels disagree');
        } catch (e) {
          check(
            e instanceof ModelBundleError && e.code === 'ERR_LWFM_MODEL_BUNDLE',
            `loadBundle threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
          );
          check(
            FILES.some((f) => e.file === join(dir, f)),
            `ModelBundleError names ${e.file}, not a bundle file`,
          );
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed, numRuns: runs },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return runs;
}
