/**
 * Worker: builds backbone.onnx off the event loop (weight generation or parsing, BatchNorm
 * folding and encoding take about 1-3 s). Weights come from the bytes of a torchvision/timm-
 * named safetensors file, or, without them, the seeded weights of the untrained default model.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { writeFile } from 'node:fs/promises';
import { buildBackboneOnnx } from './backbone_graph.js';
import { defaultFoldedConvs } from './default_weights.js';
import { readSafetensors, SafetensorsError } from './safetensors.js';
import { detectArch, foldedConvsFromStateDict, isBackboneKey, StateDictError } from './state_dict.js';
import type { ResNetArch } from './resnet.js';
import type { Pooling } from './pooling.js';

/** What the worker is asked to build. */
export interface BackboneBuildJob {
  out: string;
  arch: ResNetArch;
  taps: number[];
  featureSize: number;
  pooling: Pooling;
  crop: number;
  producerVersion: string;
  /** Bytes of a safetensors file in torchvision names (transferred); absent = the default model's seeded weights. */
  weights?: Uint8Array;
}

/** 'weights' = a problem with the weights file (reported as ModelBundleError on it). */
export type BackboneBuildReply = { ok: true } | { ok: false; kind: 'weights' | 'internal'; message: string };

async function build(job: BackboneBuildJob): Promise<BackboneBuildReply> {
  let convs;
  if (job.weights === undefined) {
    convs = defaultFoldedConvs();
  } else {
    try {
      const tensors = readSafetensors(job.weights, { only: isBackboneKey });
      const found = detectArch(tensors.keys());
      if (!found) {
        const keys = [...tensors.keys()].slice(0, 6).join(', ');
        throw new StateDictError(
          `is not a torchvision/timm ResNet state dict (expected conv1.weight and layer1.0.conv1.weight; found ${keys ? `keys ${keys}` : 'no backbone tensors'})`,
        );
      }
      if (found !== job.arch) throw new StateDictError(`holds ${found} weights, not ${job.arch}`);
      convs = foldedConvsFromStateDict(tensors, job.arch, Math.max(...job.taps));
    } catch (e) {
      if (e instanceof SafetensorsError)
        return { ok: false, kind: 'weights', message: `is not a readable safetensors file (${e.message})` };
      if (e instanceof StateDictError) return { ok: false, kind: 'weights', message: e.message };
      throw e;
    }
  }
  const onnx = buildBackboneOnnx({ ...job, convs });
  await writeFile(job.out, onnx);
  return { ok: true };
}

build(workerData as BackboneBuildJob).then(
  (reply) => parentPort!.postMessage(reply),
  (e: unknown) => parentPort!.postMessage({ ok: false, kind: 'internal', message: (e as Error).stack ?? String(e) }),
);
