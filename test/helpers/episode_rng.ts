/**
 * Deterministic synthetic episodes, bit-identical to tools/fixtures/episode_rng.py (see its
 * docstring for the draw order). Only +, -, *, / and sqrt on doubles, then Math.fround, so the
 * committed fixtures need to store only seeds and expected logits.
 */

import type { HeadOptions } from '../../src/head.js';

export interface EpisodeCase {
  name: string;
  seed: number;
  labels: number[];
  queries: number;
  channels: number[];
  feature_size: number;
  temperature_attn: number;
  temperature: number;
  matcher_weight: number;
  top_k: number;
  matcher: boolean;
  zero_pixels?: [string, number, number][];
  zero_images?: [string, number][];
}

/**
 * An episode of the benchmark model shape: taps [7, 8] (channels [512, 512]), F = 3, the
 * default hyperparameters and a matcher MLP.
 */
export function standardEpisodeCase(name: string, seed: number, labels: number[], queries: number): EpisodeCase {
  return {
    name,
    seed,
    labels,
    queries,
    channels: [512, 512],
    feature_size: 3,
    temperature_attn: 5,
    temperature: 0.2,
    matcher_weight: 0.25,
    top_k: 1,
    matcher: true,
  };
}

export interface Episode {
  support: Float32Array;
  query: Float32Array;
  matcher?: { w1: Float32Array; w2: Float32Array }[];
}

export class XorShift32 {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  nextU32(): number {
    let x = this.x;
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    this.x = x;
    return x;
  }
  uniform(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
}

export function makeEpisode(c: EpisodeCase): Episode {
  const rng = new XorShift32(c.seed);
  const C = c.channels.reduce((a, b) => a + b, 0);
  const P = c.feature_size * c.feature_size;
  const way = Math.max(...c.labels) + 1;
  const t = new Float64Array(C);
  const s = new Float64Array(C);
  for (let ch = 0; ch < C; ch++) {
    t[ch] = 0.2 + 0.5 * rng.uniform();
    s[ch] = 0.5 + 1.5 * rng.uniform();
  }
  const proto = new Float64Array(way * C * P);
  for (let i = 0; i < proto.length; i++) proto[i] = rng.uniform();
  const image = (out: Float32Array, at: number, cls: number): void => {
    for (let ch = 0; ch < C; ch++) {
      for (let px = 0; px < P; px++) {
        const v = (0.5 * proto[(cls * C + ch) * P + px]! + 0.5 * rng.uniform() - t[ch]!) * s[ch]!;
        out[at + ch * P + px] = v > 0 ? v : 0;
      }
    }
  };
  const support = new Float32Array(c.labels.length * C * P);
  c.labels.forEach((y, i) => image(support, i * C * P, y));
  const query = new Float32Array(c.queries * C * P);
  for (let q = 0; q < c.queries; q++) image(query, q * C * P, q % way);
  let matcher: Episode['matcher'];
  if (c.matcher) {
    matcher = c.channels.map((cl) => {
      const h = cl / 2;
      const w1 = new Float32Array(h * cl);
      const b1 = Math.sqrt(6 / cl);
      for (let i = 0; i < w1.length; i++) w1[i] = (2 * rng.uniform() - 1) * b1;
      const w2 = new Float32Array(cl * h);
      const b2 = Math.sqrt(6 / h);
      for (let i = 0; i < w2.length; i++) w2[i] = (2 * rng.uniform() - 1) * b2;
      return { w1, w2 };
    });
  }
  for (const [which, img, px] of c.zero_pixels ?? []) {
    const arr = which === 's' ? support : query;
    for (let ch = 0; ch < C; ch++) arr[img * C * P + ch * P + px] = 0;
  }
  for (const [which, img] of c.zero_images ?? []) {
    (which === 's' ? support : query).fill(0, img * C * P, (img + 1) * C * P);
  }
  return { support, query, matcher };
}

/** Head options of a fixture case (the fixture's snake_case names mapped to the Head's). */
export function headOptionsFor(c: EpisodeCase, matcher: Episode['matcher']): HeadOptions {
  return {
    channels: c.channels,
    featureSize: c.feature_size,
    temperatureAttn: c.temperature_attn,
    temperature: c.temperature,
    matcherWeight: c.matcher_weight,
    topK: c.top_k,
    matcher,
  };
}
