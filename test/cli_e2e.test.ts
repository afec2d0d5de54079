/**
 * The CLI's model-loading commands as subprocesses, on the embedded default model
 * and generated images. Sequential: they share the default model's cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot, runCli } from './support/cli.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';

let dir: string;
let data: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-cli-e2e-'));
  data = join(dir, 'data');
  execFileSync(process.execPath, [join(repoRoot, 'tools', 'make_samples.mjs'), data], { stdio: 'pipe' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lwfm-spm commands on the default model', () => {
  it('demo prints predictions against truth, accuracy, timings, and says the model is untrained', async () => {
    const r = await runCli(['demo', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('UNTRAINED');
    expect(r.stdout).toMatch(/query\s+truth\s+predicted/);
    expect(r.stdout.match(/^samples\//gm)?.length).toBe(15);
    expect(r.stdout).toMatch(/Accuracy: \d+\/15 = /);
    expect(r.stdout).toMatch(
      /Timings \(wall clock\): embed [\d.]+ m?s \+ head [\d.]+ m?s \+ other [\d.]+ m?s = total [\d.]+ m?s; inside embed, the workers decoded for .* and ran the network for .*, overlapping/,
    );
    const json = JSON.parse((await runCli(['demo', '--threads', '2', '--json', '--seed', '3', '--shot', '2'])).stdout);
    expect(json).toMatchObject({ untrained: true, way: 5, shot: 2, query: 3, seed: 3 });
    expect(json.support).toHaveLength(10);
    expect(json.predictions).toHaveLength(15);
    expect(json.accuracy).toBe(json.predictions.filter((p: { truth: string; predicted: string }) => p.truth === p.predicted).length / 15);
  });

  it('classify --json gives one entry per query, with truth from query subdirectories', async () => {
    const folder = scanImageFolder(data);
    const support = join(dir, 'support');
    const query = join(dir, 'query');
    for (const c of folder.classes.slice(0, 3)) {
      mkdirSync(join(support, c.name), { recursive: true });
      mkdirSync(join(query, c.name), { recursive: true });
      cpSync(c.files[0]!, join(support, c.name, 'a.jpg'));
      cpSync(c.files[1]!, join(query, c.name, 'q.jpg'));
    }
    const single = folder.classes[3]!.files[0]!;
    const r = await runCli(['classify', '--support', support, '--query', query, single, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.untrained).toBe(true);
    expect(out.labels).toEqual(folder.classes.slice(0, 3).map((c) => c.name));
    expect(out.results).toHaveLength(4);
    expect(out.results[3].truth).toBeNull();
    for (const e of out.results) expect(out.labels).toContain(e.label);
    expect(typeof out.accuracy).toBe('number');
  });

  it('classify reports an unreadable query in its row and exits 1', async () => {
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'not an image');
    const good = scanImageFolder(data).classes[0]!.files[5]!;
    const r = await runCli(['classify', '--support', data, '--query', good, bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(good);
    expect(r.stdout).toMatch(/bad\.jpg\s+error: /);
    expect(r.stderr).toContain('1 of 2 query images could not be read');
  });

  it('eval prints plain progress lines when not on a TTY, then accuracy, CI and the time split', async () => {
    const r = await runCli(['eval', '--data', data, '--episodes', '3', '--query', '2', '--seed', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\[#+\.*\] 1\/3 episodes .* ep\/s {2}ETA .* acc /m);
    expect(r.stderr).toContain('3/3 episodes');
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout).toMatch(/Accuracy: \d+\.\d\d% \+- \d+\.\d\d% \(95% confidence interval\)/);
    expect(r.stdout).toMatch(/Head \+ glue: .* of the backbone stage/);
    const json = await runCli(['eval', '--data', data, '--episodes', '3', '--query', '2', '--seed', '4', '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.episodes).toBe(3);
    // Same seed, same episodes: the text run and the JSON run agree.
    expect(r.stdout).toContain(`Accuracy: ${(100 * parsed.accuracy).toFixed(2)}%`);
  });

  it('eval skips an unreadable image with a warning', async () => {
    const broken = join(dir, 'broken');
    for (const c of scanImageFolder(data).classes.slice(0, 3)) {
      mkdirSync(join(broken, c.name), { recursive: true });
      for (const f of c.files.slice(0, 5)) cpSync(f, join(broken, c.name, basename(f)));
    }
    const victim = scanImageFolder(broken).classes[1]!.files[2]!;
    writeFileSync(victim, 'garbage');
    const r = await runCli(['eval', '--data', broken, '--episodes', '2', '--way', '3', '--query', '3', '--seed', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: Skipping unreadable image ${victim}`);
    expect(r.stdout).toContain('Skipped 1 unreadable image(s).');
  });

  it('info --json reports version, native build, devices and model', async () => {
    const r = await runCli(['info', '--json', '--device', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof info.native.cuda).toBe('boolean');
    expect(info.devices).toEqual({ backbone: 'cpu', head: 'cpu' });
    expect(info.model.trained).toBe(false);
  });

  it('a bad model bundle is an error naming the file, exit 1', async () => {
    const empty = join(dir, 'empty-model');
    mkdirSync(empty);
    const r = await runCli(['classify', '--support', data, '--query', scanImageFolder(data).classes[0]!.files[0]!, '--model', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid model bundle file .*empty-model/);
  });
});
