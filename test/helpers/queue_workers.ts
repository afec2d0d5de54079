/**
 * `lwfm-spm worker` as child processes (from the TypeScript sources), for the tests and
 * the queue benchmark: started, waited for until ready, and stopped or killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  /** `host:pid`, as the worker records it in results. */
  id: string;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** SIGTERM and wait (running jobs finish first). */
  stop(): Promise<void>;
  /** SIGKILL and wait: the crash the delivery guarantees are about. */
  kill(): Promise<void>;
}

/** Starts a worker process and resolves once it reports ready. */
export async function startWorkerProcess(args: string[], timeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'worker', ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    const check = (): void => {
      if (/ ready on queue /.test(stderr)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before ready:\n${stderr}`));
    });
  });
  const id = /worker: (\S+) ready on queue/.exec(stderr)![1]!;
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { child, id, log: () => stderr, stop: () => halt('SIGTERM'), kill: () => halt('SIGKILL') };
}
