/**
 * `lwfm-spm convert`: runs tools/convert_checkpoint.py with the system's Python, and says
 * exactly what to install when Python or PyTorch is missing.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** tools/convert_checkpoint.py of this package (this file is src/model or dist/model). */
export const CONVERTER_SCRIPT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'tools', 'convert_checkpoint.py');

/** Python interpreter: $LWFM_SPM_PYTHON, else python3 on PATH. */
export function pythonCommand(): string {
  return process.env.LWFM_SPM_PYTHON || 'python3';
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
    throw new TypeError(`Expected array of strings for args but received ${Array.isArray(args) ? 'an array with non-strings' : typeof args}`);
  }
  const python = pythonCommand();
  return new Promise<number>((resolvePromise) => {
    const child = spawn(python, [CONVERTER_SCRIPT, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(e.code === 'ENOENT' ? `lwfm-spm convert: ${python} was not found. ${INSTALL_PYTHON_HINT}\n` : `lwfm-spm convert: cannot run ${python}: ${e.message}\n`);
      resolvePromise(127);
    });
    child.on('close', (code, signal) => {
      if (code === EXIT_NO_TORCH || /No module named 'torch'/.test(stderr)) process.stderr.write(`lwfm-spm convert: ${INSTALL_TORCH_HINT}\n`);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}
