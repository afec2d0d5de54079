/**
 * A private redis-server for one test file: a free loopback port, a temporary
 * directory for its append-only file, stopped (and the directory removed) by
 * `stop()`. Never a shared or system instance. `restart()` stops it the way an
 * operator's restart would (SIGTERM: Redis flushes the AOF and exits) or crashes
 * it (SIGKILL), then starts a new server on the same port and directory.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  restart(options?: { signal?: 'SIGTERM' | 'SIGKILL'; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Why redis-server cannot run here, or undefined when it can (tests print the reason and skip). */
export function redisUnavailable(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) return `redis-server not found (${probe.error.message}); .ci/run installs Debian's redis-server`;
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function pingable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

/**
 * `always` (the default here): an acknowledged write survives even a SIGKILL of the
 * server, which the restart test relies on. `everysec` is Redis's default (up to a
 * second of writes lost on a crash), what the benchmark uses.
 */
export type Fsync = 'always' | 'everysec';

function launch(port: number, dir: string, fsync: Fsync): ChildProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    fsync,
    '--save',
    '',
    '--protected-mode',
    'yes',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    if (await pingable(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s`);
}

async function halt(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/** Starts a private redis-server with append-only persistence. */
export async function startRedis(options: { fsync?: Fsync } = {}): Promise<TestRedis> {
  const fsync = options.fsync ?? 'always';
  const dir = mkdtempSync(join(tmpdir(), 'lwfm-redis-'));
  const port = await freePort();
  let child = launch(port, dir, fsync);
  await waitReady(port, child);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async restart(options = {}) {
      await halt(child, options.signal ?? 'SIGTERM');
      if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
      child = launch(port, dir, fsync);
      await waitReady(port, child);
    },
    async stop() {
      await halt(child, 'SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
