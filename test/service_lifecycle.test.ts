/**
 * The serve process's lifecycle over real HTTP: graceful shutdown with requests in
 * flight (none lost, none cut), support sets persisted across a restart (and damaged
 * store files skipped), a second signal exiting at once, and the per-request timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type ServeProcess } from './helpers/serve_process.js';
import { call, form, sampleImages } from './helpers/service_client.js';

let dir: string;
let store: string;
let images: Map<string, Buffer[]>;
let classes: string[];
const running: ServeProcess[] = [];

const BASE = ['--device', 'cpu', '--threads', '1', '--workers', '1', '--log-level', 'warn'];

async function serve(args: string[]): Promise<ServeProcess> {
  const s = await startServe([...BASE, '--store', store, ...args]);
  running.push(s);
  return s;
}

const supportForm = () =>
  form(
    classes.flatMap((c): [string, Buffer | string][] => [
      ['image', images.get(c)![0]!],
      ['label', c],
    ]),
  );
const queryImages = (n: number) => Array.from({ length: n }, (_, i) => images.get(classes[i % classes.length]!)![3 + (i % 4)]!);
const classify = (url: string, n: number) =>
  call(`${url}/v1/support-sets/pets/classify`, { method: 'POST', body: form(queryImages(n).map((b) => ['image', b])) });

/** Waits until `n` requests are inside the server (running or queued for a model slot, per its metrics). */
async function untilInFlight(url: string, n: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { text } = await call(`${url}/metrics`);
    const running = Number(/lwfm_requests_in_flight (\d+)/.exec(text)?.[1] ?? 0);
    const queued = Number(/lwfm_queue_depth (\d+)/.exec(text)?.[1] ?? 0);
    if (running + queued >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${n} requests did not reach the server within 10 s`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-serve-life-'));
  store = join(dir, 'store');
  images = sampleImages(join(dir, 'data'));
  classes = [...images.keys()].slice(0, 5);
});

afterAll(async () => {
  for (const s of running) await s.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('serve lifecycle', () => {
  let before: { results: unknown[] };

  it('SIGTERM with requests in flight: all of them complete, new ones are refused, exit 0', async () => {
    const s = await serve(['--max-concurrent', '2', '--max-queue', '16']);
    const created = await call(`${s.url}/v1/support-sets`, {
      method: 'POST',
      body: (() => {
        const f = supportForm();
        f.append('id', 'pets');
        return f;
      })(),
    });
    expect(created.status).toBe(201);
    before = (await classify(s.url, 6)).body;
    const inFlight = Array.from({ length: 6 }, () => classify(s.url, 12));
    await untilInFlight(s.url, 6);
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    const late = await call(`${s.url}/v1/support-sets`).catch((e: Error) => ({
      status: 0,
      body: { error: { code: (e.cause as { code?: string })?.code ?? e.message } },
    }));
    const replies = await Promise.all(inFlight);
    for (const r of replies) {
      expect(r.status, r.text).toBe(200);
      expect(r.body.results).toHaveLength(12);
      expect(r.body.results.every((x: { label?: string }) => typeof x.label === 'string')).toBe(true);
    }
    // Refused: either the listener is already closed or the request met the shutdown guard.
    expect([0, 503]).toContain(late.status);
    if (late.status === 503) expect(late.body.error.code).toBe('ERR_LWFM_SHUTTING_DOWN');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toContain('stopped');
    expect(readdirSync(store)).toEqual(['pets.lwfmsup']);
  });

  it('a restart keeps the support sets (same results); damaged store files are skipped; a second signal exits at once', async () => {
    writeFileSync(join(store, 'damaged.lwfmsup'), 'not a support set');
    const s = await serve([]);
    const got = await call(`${s.url}/v1/support-sets/pets`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: 'pets', way: 5, size: 5, labels: classes });
    const list = await call(`${s.url}/v1/support-sets`);
    expect(list.body.supportSets.map((x: { id: string }) => x.id)).toEqual(['pets']);
    expect(s.stderr()).toContain('damaged.lwfmsup');
    const after = (await classify(s.url, 6)).body;
    expect(after.results).toEqual(before.results);

    const inFlight = Array.from({ length: 4 }, () => classify(s.url, 12).catch(() => null));
    await untilInFlight(s.url, 4);
    const t = performance.now();
    s.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    s.child.kill('SIGTERM');
    // A normal exit with SIGTERM's shell code: no SIGABRT from native work in flight (issue 11).
    expect(await s.exited, s.stderr()).toEqual({ code: 143, signal: null });
    expect(s.stderr()).not.toMatch(/terminate called/);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(s.stderr()).toContain('again, exiting now');
    await Promise.all(inFlight);
  });

  it('per-request timeout: 503 ERR_LWFM_TIMEOUT with Retry-After; SIGINT stops it with exit 0', async () => {
    const s = await serve(['--timeout-ms', '1']);
    expect((await call(`${s.url}/v1/support-sets/pets`)).status).toBe(200); // no model work: not gated
    const r = await classify(s.url, 8);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('ERR_LWFM_TIMEOUT');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(`${s.url}/readyz`)).status).toBe(200);
    expect(await s.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});
