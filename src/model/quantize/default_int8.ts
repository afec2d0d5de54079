/**
 * The int8 version of the untrained default model: quantized from the fp32 default model
 * on first use, calibrated on the bundled samples, and cached next to it in
 * `<cacheDir>/default-<version>-int8`.
 */
import { join, resolve } from 'node:path';
import { ModelBundleError } from '../../errors.js';
import { expectOptions, expectedMessage } from '../../validate.js';
import { loadBundle, type ModelBundle } from '../bundle.js';
import { DEFAULT_MODEL_VERSION, buildIntoPlace, defaultBundle, defaultCacheRoot } from '../default_bundle.js';
import { quantizeBundle } from './quantize_bundle.js';

const inFlight = new Map<string, Promise<ModelBundle>>();

/**
 * The default model with an int8 backbone (see quantizeBundle), built once and cached.
 * The calibration on the bundled samples emits a warning (LWFM_CALIBRATION_SAMPLES) when built.
 * @example
 * const bundle = await defaultInt8Bundle();
 * bundle.config.precision; // 'int8'
 */
export async function defaultInt8Bundle(opts?: { cacheDir?: string }): Promise<ModelBundle> {
  const o = expectOptions(opts, 'opts');
  if (o.cacheDir !== undefined && (typeof o.cacheDir !== 'string' || o.cacheDir.length === 0)) {
    throw new TypeError(expectedMessage('directory path string', 'opts.cacheDir', o.cacheDir));
  }
  const root = o.cacheDir ? resolve(o.cacheDir as string) : defaultCacheRoot();
  const dir = join(root, `default-${DEFAULT_MODEL_VERSION}-int8`);
  let p = inFlight.get(dir);
  if (!p) {
    p = ensure(root, dir).finally(() => inFlight.delete(dir));
    inFlight.set(dir, p);
  }
  return p;
}

async function ensure(root: string, dir: string): Promise<ModelBundle> {
  try {
    const cached = await loadBundle(dir);
    if (cached.config.precision === 'int8') return cached;
  } catch (e) {
    if (!(e instanceof ModelBundleError)) throw e;
  }
  const fp32 = await defaultBundle({ cacheDir: root });
  await buildIntoPlace(dir, (tmp) => quantizeBundle(fp32.dir, tmp));
  return loadBundle(dir);
}
