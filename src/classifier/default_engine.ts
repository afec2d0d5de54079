/**
 * The production engine: the ONNX Runtime backbone and the native head, both built
 * from one model bundle. Imported lazily by `FewShotClassifier.load` so that merely
 * importing the classifier never starts onnxruntime or loads the addon.
 */
import { Head } from '../head.js';
import { Backbone } from '../backbone/backbone.js';
import { headOptionsOf, loadBundle } from '../model/bundle.js';
import { defaultBundle } from '../model/default_bundle.js';
import { defaultInt8Bundle } from '../model/quantize/default_int8.js';
import { classifierHeadDevice } from '../device.js';
import { nativeInfo } from '../native_info.js';
import type { Engine, LoadOptions } from './engine.js';
import type { NativeInfoProvider } from './types.js';

/** Loads the bundle (or the default model) and builds backbone + head from it. */
export async function createDefaultEngine(bundleDir: string | undefined, options: LoadOptions): Promise<Engine> {
  const bundle =
    bundleDir === undefined ? await (options.precision === 'int8' ? defaultInt8Bundle() : defaultBundle()) : await loadBundle(bundleDir);
  const { config } = bundle;
  const precision = config.precision ?? 'fp32';
  if (options.precision !== undefined && options.precision !== precision) {
    throw new RangeError(
      `Expected a ${options.precision} bundle for options.precision but received ${bundle.dir}, which is ${precision} (make an int8 one with \`lwfm-spm quantize\`)`,
    );
  }
  const backbone = await Backbone.create(bundle, {
    device: options.device ?? 'auto',
    workers: options.workers,
    threads: options.threads,
    maxImagePixels: options.maxImagePixels,
  });
  try {
    const headOptions = { ...headOptionsOf(bundle), threads: options.threads };
    const head = new Head({ ...headOptions, device: classifierHeadDevice(options.device ?? 'auto', headOptions) });
    return {
      backbone,
      head,
      model: {
        dir: bundle.dir,
        resize: config.resize,
        crop: config.crop,
        channels: [...config.channels],
        featureSize: config.featureSize,
        trained: config.provenance.trained,
        source: config.provenance.source,
        fingerprint: bundle.fingerprint,
        precision,
        ...(config.quantization ? { quantization: { ...config.quantization } } : {}),
      },
      threads: options.threads,
      workers: options.workers,
    };
  } catch (err) {
    await backbone.dispose();
    throw err;
  }
}

/** The loaded addon's build description. */
export const defaultNativeInfo: NativeInfoProvider = () => nativeInfo();
