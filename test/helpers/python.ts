/** Finds /usr/bin/python3 with torch + torchvision for the tests that compare with PyTorch. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = process.env.LWFM_SPM_TEST_PYTHON ?? '/usr/bin/python3';

let cached: { ok: boolean; reason: string } | undefined;

/** { ok: true } when PYTHON can import torch and torchvision; otherwise the reason, for the skip message. */
export function torchAvailable(): { ok: boolean; reason: string } {
  if (cached) return cached;
  if (!existsSync(PYTHON)) cached = { ok: false, reason: `${PYTHON} does not exist (install python3-torch and python3-torchvision)` };
  else {
    const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' });
    cached =
      r.status === 0
        ? { ok: true, reason: '' }
        : { ok: false, reason: `${PYTHON} cannot import torch/torchvision/numpy: ${r.stderr.trim().split('\n').pop()}` };
  }
  if (!cached.ok) console.warn(`[skip] PyTorch comparison tests skipped: ${cached.reason}`);
  return cached;
}

/** Runs a Python script synchronously; throws with its stderr on failure. */
export function runPython(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
