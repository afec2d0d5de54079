/** Worker: generates the default weights and writes backbone.onnx (see default_bundle.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { buildBackboneOnnx } from './backbone_graph.js';
import { defaultFoldedConvs } from './default_weights.js';
import { DEFAULT_HYPERPARAMETERS } from './config.js';
import { DEFAULT_CONVERTER_VERSION } from './default_bundle_constants.js';

const { path } = workerData as { path: string };
try {
  const h = DEFAULT_HYPERPARAMETERS;
  const bytes = buildBackboneOnnx({
    taps: h.taps,
    featureSize: h.featureSize,
    pooling: h.pooling,
    crop: h.crop,
    convs: defaultFoldedConvs(),
    producerVersion: DEFAULT_CONVERTER_VERSION,
  });
  writeFileSync(path, bytes);
  parentPort!.postMessage({ ok: true });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
}
