/** Messages between the Backbone (main thread) and its pool workers. */
import type { ImageDecodeReason } from '../errors.js';
import type { PreprocessSpec } from './preprocess.js';

export interface WorkerInit {
  modelPath: string;
  device: 'cpu' | 'cuda';
  threads: number;
  spec: PreprocessSpec;
  /** Floats per image in the output (C * F * F). */
  featureLength: number;
  /** Images with more pixels are rejected before decoding (src/backbone/decode.ts). */
  maxImagePixels: number;
}

export type JobMessage =
  { type: 'images'; id: number; images: (string | Uint8Array)[] } | { type: 'tensor'; id: number; count: number; data: Float32Array };

export interface JobResult {
  type: 'result';
  id: number;
  /** Features of the images that decoded, in order: ok.length x featureLength. */
  features: Float32Array;
  /** Positions (within the job) of the rows in `features`. */
  ok: number[];
  /**
   * Images that failed. `internal`: the failure was ours (an error of the addon or the decoder
   * that is not about the image), reported as a BackboneError rather than the image's fault.
   */
  errors: { index: number; message: string; reason: ImageDecodeReason; internal?: boolean }[];
  decodeMs: number;
  backboneMs: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'initError'; message: string }
  | JobResult
  /** The job failed as a whole; `errors` lists images already known unreadable (they never reached the session). */
  | { type: 'jobError'; id: number; message: string; errors?: JobResult['errors'] }
  | { type: 'closed' };
