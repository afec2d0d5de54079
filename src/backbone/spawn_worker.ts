/**
 * Starts a worker_threads module that sits next to the calling module. Published code
 * runs the compiled .js; when running from TypeScript sources (tests, tsx) the worker
 * needs a TypeScript loader too, and Node 20 does not pass `--import tsx` on to workers,
 * so a tiny bootstrap registers tsx inside the worker before importing the module.
 *
 * Workers do not inherit the parent's Node flags: by default a Worker copies
 * process.execArgv, and flags that describe the parent's entry point (`--input-type`,
 * `-e`, `--import`, `--loader`, `--test`...) make the worker fail to start, e.g.
 * ERR_INPUT_TYPE_NOT_ALLOWED under `node --input-type=module -e`. V8 flags such as
 * --max-old-space-size are process-wide and apply to workers regardless, so workers get
 * only the diagnostic flags below.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** URL of a sibling module `name` (without extension) of the module at `baseUrl`, in the same flavour (.ts or .js). */
export function siblingModule(baseUrl: string, name: string): URL {
  return new URL(`./${name}${baseUrl.endsWith('.ts') ? '.ts' : '.js'}`, baseUrl);
}

function tsxApiUrl(): string {
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const rel = pkg.exports['./esm/api']?.import.default;
  if (!rel) throw new Error('tsx does not export ./esm/api; cannot run TypeScript workers');
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/** Boolean Node flags that only change how errors and warnings are reported: safe for any worker. */
const INHERITED_FLAGS = new Set([
  '--enable-source-maps',
  '--no-warnings',
  '--no-deprecation',
  '--trace-warnings',
  '--trace-deprecation',
  '--trace-uncaught',
  '--throw-deprecation',
]);

/**
 * The subset of the parent's Node flags a worker should start with.
 * @example workerExecArgv(['--input-type=module', '--enable-source-maps']); // ['--enable-source-maps']
 */
export function workerExecArgv(parent: readonly string[] = process.execArgv): string[] {
  return parent.filter((flag) => INHERITED_FLAGS.has(flag));
}

/**
 * Starts the module at `url` in a worker thread (TypeScript sources through tsx). The
 * worker gets workerExecArgv() unless `options.execArgv` says otherwise.
 * @example const w = spawnModuleWorker(siblingModule(import.meta.url, 'pool_worker'), { workerData: { ... } });
 */
export function spawnModuleWorker(url: URL, options: WorkerOptions = {}): Worker {
  options = { ...options, execArgv: options.execArgv ?? workerExecArgv() };
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bootstrap =
    `import(${JSON.stringify(tsxApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((e) => { process.nextTick(() => { throw e; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
