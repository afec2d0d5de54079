/**
 * Issue 11 item 3: every bundle file must be a regular file within a size limit before it
 * is read, and safetensors tensors must tile the data section exactly.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../src/model/bundle.js';
import { MAX_MODEL_JSON_BYTES, readBundleFile } from '../src/model/bundle_file.js';
import { readSafetensors, SafetensorsError } from '../src/model/safetensors.js';
import { ModelBundleError } from '../src/errors.js';
import { matcherTensors, writeSmallBundle } from './helpers/small_bundle.js';

let root: string;
let n = 0;
const fresh = (): string => join(root, `b${n++}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-bundle-files-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function expectBundleError(dir: string, file: string, problem: RegExp): Promise<void> {
  const t0 = Date.now();
  const err = await loadBundle(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelBundleError);
  expect((err as ModelBundleError).code).toBe('ERR_LWFM_MODEL_BUNDLE');
  expect((err as ModelBundleError).file).toBe(join(dir, file));
  expect((err as Error).message).toMatch(problem);
  // Rejected from the descriptor's metadata, not after reading: well under a second.
  expect(Date.now() - t0).toBeLessThan(5000);
}

function replaceWithSymlink(dir: string, file: string, target: string): void {
  unlinkSync(join(dir, file));
  symlinkSync(target, join(dir, file));
}

describe('bundle files that are not regular files', () => {
  it('rejects backbone.onnx symlinked to /dev/zero without reading it', async () => {
    const dir = writeSmallBundle(fresh());
    replaceWithSymlink(dir, 'backbone.onnx', '/dev/zero');
    await expectBundleError(dir, 'backbone.onnx', /is a character device, expected a regular file/);
  });

  it('rejects a FIFO without waiting for a writer', async () => {
    const dir = writeSmallBundle(fresh());
    unlinkSync(join(dir, 'backbone.onnx'));
    execFileSync('mkfifo', [join(dir, 'backbone.onnx')]);
    await expectBundleError(dir, 'backbone.onnx', /is a FIFO \(named pipe\), expected a regular file/);
  });

  it('rejects a directory, a symlink loop and a dangling matcher symlink', async () => {
    const a = writeSmallBundle(fresh());
    unlinkSync(join(a, 'model.json'));
    mkdirSync(join(a, 'model.json'));
    await expectBundleError(a, 'model.json', /is a directory/);

    const b = writeSmallBundle(fresh());
    replaceWithSymlink(b, 'backbone.onnx', join(b, 'backbone.onnx'));
    await expectBundleError(b, 'backbone.onnx', /symlink loop/);

    // A matcher that is a broken link is an error, not a bundle without a matcher.
    const c = writeSmallBundle(fresh());
    symlinkSync(join(c, 'nowhere'), join(c, 'matcher.safetensors'));
    await expectBundleError(c, 'matcher.safetensors', /file is missing/);
  });

  it('rejects oversize files from their size alone (sparse files, nothing read)', async () => {
    const a = writeSmallBundle(fresh());
    truncateSync(join(a, 'model.json'), MAX_MODEL_JSON_BYTES + 1);
    await expectBundleError(
      a,
      'model.json',
      new RegExp(`is ${MAX_MODEL_JSON_BYTES + 1} bytes, more than the ${MAX_MODEL_JSON_BYTES} bytes allowed`),
    );

    const b = writeSmallBundle(fresh());
    truncateSync(join(b, 'backbone.onnx'), 2 ** 31);
    await expectBundleError(b, 'backbone.onnx', /is 2147483648 bytes, more than the 2147483647 bytes/);

    // A 64-channel matcher needs 2 * 32 * 64 floats: 1 GB is not a matcher for it.
    const c = writeSmallBundle(fresh(), { matcher: matcherTensors([64]) });
    truncateSync(join(c, 'matcher.safetensors'), 1e9);
    await expectBundleError(c, 'matcher.safetensors', /is 1000000000 bytes, more than the \d+ bytes allowed/);
  });

  it('reads a regular file (also through a symlink) exactly', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) & 255));
    writeFileSync(join(dir, 'f'), bytes);
    symlinkSync(join(dir, 'f'), join(dir, 'link'));
    expect((await readBundleFile(join(dir, 'f'), bytes.length)).equals(bytes)).toBe(true);
    expect((await readBundleFile(join(dir, 'link'), bytes.length)).equals(bytes)).toBe(true);
    await expect(readBundleFile(join(dir, 'f'), bytes.length - 1)).rejects.toThrow(ModelBundleError);
  });
});

/** A safetensors file with a hand-written header: `entries` name -> [begin, end] of F32 tensors of shape [count]. */
function rawSafetensors(entries: Record<string, readonly [number, number]>, dataBytes: number, headerLen?: number): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [name, [b, e]] of Object.entries(entries)) header[name] = { dtype: 'F32', shape: [(e - b) / 4], data_offsets: [b, e] };
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors layout', () => {
  it('accepts tensors laid end to end in any header order', () => {
    const t = readSafetensors(rawSafetensors({ b: [8, 16], a: [0, 8], empty: [16, 16] }, 16));
    expect([...t.keys()]).toEqual(['b', 'a', 'empty']);
    expect(t.get('b')!.shape).toEqual([2]);
  });

  it.each([
    [
      'overlapping tensors',
      { a: [0, 8], b: [4, 12] },
      12,
      /tensor b at data_offsets \[4, 12\] overlaps the tensor before it, which ends at 8/,
    ],
    ['a tensor aliasing another', { a: [0, 8], b: [0, 8] }, 8, /overlaps/],
    ['a gap between tensors', { a: [0, 4], b: [8, 12] }, 12, /data bytes \[4, 8\) before tensor b belong to no tensor/],
    ['trailing data', { a: [0, 4] }, 12, /the tensors end at data byte 4 but the data section is 12 bytes/],
    ['a tensor past the data section', { a: [0, 16] }, 8, /do not fit shape \[4\] within 8 data bytes/],
  ] as const)('rejects %s', (_what, entries, dataBytes, problem) => {
    expect(() => readSafetensors(rawSafetensors(entries, dataBytes))).toThrow(SafetensorsError);
    expect(() => readSafetensors(rawSafetensors(entries, dataBytes))).toThrow(problem);
  });

  it('rejects a header length beyond the 100 MB cap before looking at the file size', () => {
    expect(() => readSafetensors(rawSafetensors({ a: [0, 4] }, 4, 2 ** 40))).toThrow(/exceeds the 100000000-byte limit/);
  });

  it('reaches loadBundle as a ModelBundleError naming the matcher', async () => {
    const dir = writeSmallBundle(fresh());
    writeFileSync(join(dir, 'matcher.safetensors'), rawSafetensors({ 'matcher.0.w1': [0, 8192], 'matcher.0.w2': [4096, 12288] }, 12288));
    await expectBundleError(dir, 'matcher.safetensors', /not a readable safetensors file \(tensor matcher\.0\.w2 .* overlaps/);
  });
});
