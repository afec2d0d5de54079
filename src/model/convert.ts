/**
 * `lwfm-spm convert`: runs tools/convert_checkpoint.py with the system's Python, and says
 * exactly what to install when Python or PyTorch is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tools/convert_checkpoint.py of this package (this file is src/model or dist/model). */
export const CONVERTER_SCRIPT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'tools', 'convert_checkpoint.py');

/**
 * Interpreters to try: $LWFM_SPM_PYTHON alone when set, else python3 on PATH and then
 * /usr/bin/python3 (a pyenv or venv python3 often shadows the system one that has
 * Debian's python3-torch).
 */
export function pythonCandidates(): string[] {
  const env = process.env.LWFM_SPM_PYTHON;
  if (env) return [env];
  return existsSync('/usr/bin/python3') ? ['python3', '/usr/bin/python3'] : ['python3'];
}

export const INSTALL_TORCH_HINT =
  'Install PyTorch for the converter: on Debian/Ubuntu `apt-get install python3-torch`, or with pip `pip install torch` (set LWFM_SPM_PYTHON to pick the interpreter).';
export const INSTALL_PYTHON_HINT =
  'The converter needs Python 3 with PyTorch: on Debian/Ubuntu `apt-get install python3 python3-torch`, or install Python 3 and `pip install torch` (set LWFM_SPM_PYTHON to pick the interpreter).';

/** Exit status of convert_checkpoint.py when `import torch` fails. */
const EXIT_NO_TORCH = 3;

/**
 * Runs the checkpoint converter with `args` (as for tools/convert_checkpoint.py), streaming
 * its output; resolves to its exit status (127 when Python is missing).
 * @example
 * process.exitCode = await runConverter(['ckpt.pth', './my-model', '--taps', '7', '8']);
 */
export async function runConverter(args: string[]): Promise<number> {
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new TypeError(
      `Expected array of strings for args but received ${Array.isArray(args) ? 'an array with non-strings' : typeof args}`,
    );
  }
  const candidates = pythonCandidates();
  for (const [i, python] of candidates.entries()) {
    const last = i === candidates.length - 1;
    const r = await runOnce(python, args);
    if (r.kind === 'done') return r.code;
    if (!last) continue; // this interpreter lacks Python or torch: try the next one quietly
    if (r.kind === 'noPython') {
      process.stderr.write(`lwfm-spm convert: ${candidates.join(' or ')} not found. ${INSTALL_PYTHON_HINT}\n`);
      return 127;
    }
    process.stderr.write(`${r.stderr}lwfm-spm convert: ${INSTALL_TORCH_HINT}\n`);
    return EXIT_NO_TORCH;
  }
  return 1;
}

type Attempt = { kind: 'done'; code: number } | { kind: 'noPython' } | { kind: 'noTorch'; stderr: string };

/** One run; stdout streams through, stderr is held back until we know whether this interpreter has torch. */
function runOnce(python: string, args: string[]): Promise<Attempt> {
  return new Promise<Attempt>((resolvePromise) => {
    // The script hands the tensors it reads to this package's TypeScript bundle writer; it should run on this Node.
    const env = { ...process.env, LWFM_SPM_NODE: process.env.LWFM_SPM_NODE ?? process.execPath };
    const child = spawn(python, [CONVERTER_SCRIPT, ...args], { stdio: ['ignore', 'inherit', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') resolvePromise({ kind: 'noPython' });
      else {
        process.stderr.write(`lwfm-spm convert: cannot run ${python}: ${e.message}\n`);
        resolvePromise({ kind: 'done', code: 126 });
      }
    });
    child.on('close', (code, signal) => {
      if (code === EXIT_NO_TORCH) return resolvePromise({ kind: 'noTorch', stderr });
      process.stderr.write(stderr);
      resolvePromise({ kind: 'done', code: code ?? (signal ? 128 : 1) });
    });
  });
}
