/**
 * A model's backbone identity: which embeddings it produces. Two bundles with the same
 * fingerprint turn the same image into the same C x P features, so embeddings made by
 * one (a stored support set) are valid for the other. It covers backbone.onnx's bytes and
 * the preprocessing in model.json that runs before the graph (resize, crop, mean, std).
 */
import type { ModelConfig } from './config.js';

/**
 * `sha256:<hex>` over backbone.onnx and the preprocessing settings. Hashing runs in
 * WebCrypto, off the event loop.
 * @example
 * const fp = await backboneFingerprint(readFileSync('model/backbone.onnx'), config); // 'sha256:9f2c...'
 */
export async function backboneFingerprint(onnx: Uint8Array, config: ModelConfig): Promise<string> {
  const pre = JSON.stringify({
    taps: config.taps,
    channels: config.channels,
    featureSize: config.featureSize,
    pooling: config.pooling,
    resize: config.resize,
    crop: config.crop,
    mean: config.mean,
    std: config.std,
  });
  const [graph, settings] = await Promise.all([
    crypto.subtle.digest('SHA-256', onnx),
    crypto.subtle.digest('SHA-256', new TextEncoder().encode(pre)),
  ]);
  const joined = new Uint8Array(64);
  joined.set(new Uint8Array(graph), 0);
  joined.set(new Uint8Array(settings), 32);
  return `sha256:${Buffer.from(await crypto.subtle.digest('SHA-256', joined)).toString('hex')}`;
}
