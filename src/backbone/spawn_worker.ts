/**
 * Starts a worker_threads module that sits next to the calling module. Published code
 * runs the compiled .js; when running from TypeScript sources (tests, tsx) the worker
 * needs a TypeScript loader too, and Node 20 does not pass `--import tsx` on to workers,
 * so a tiny bootstrap registers tsx inside the worker before importing the module.
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
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  const rel = pkg.exports['./esm/api']?.import.default;
  if (!rel) throw new Error('tsx does not export ./esm/api; cannot run TypeScript workers');
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/**
 * @example const w = spawnModuleWorker(siblingModule(import.meta.url, 'pool_worker'), { workerData: { ... } });
 */
export function spawnModuleWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bootstrap =
    `import(${JSON.stringify(tsxApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })` +
    `.catch((e) => { process.nextTick(() => { throw e; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
