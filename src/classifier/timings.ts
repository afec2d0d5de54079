/** Per-stage wall-clock timings that every classifier call reports. */

/**
 * Milliseconds per stage of one call. `embed`, `head` and `other` are consecutive wall-clock
 * intervals that add up to `total`: `embed` is the backbone stage (decoding and inference, which
 * overlap inside it), `head` the native head (prepare + score), `other` everything else in the
 * call (argument checks, copying rows, softmax, label mapping). `decode` and `backbone` are not
 * parts of `total`: they are the backbone workers' busy time decoding images and running the
 * network, summed over workers and jobs. They run concurrently (one job decodes while another is
 * in the network, and several workers run at once), so decode + backbone may exceed `embed`.
 * @example
 * const { timings: t } = await classifier.classify(files);
 * console.log(t.embed + t.head + t.other === t.total); // true, up to float rounding
 */
export interface StageTimings {
  /** Wall clock of the backbone stage (decode + network, overlapped). */
  embed: number;
  /** Wall clock of the head. */
  head: number;
  /** Wall clock of the rest of the call: total - embed - head. */
  other: number;
  /** Wall clock of the whole call. */
  total: number;
  /** Worker time spent decoding and preprocessing, summed over workers (concurrent with `backbone`). */
  decode: number;
  /** Worker time spent in the network, summed over workers (concurrent with `decode`). */
  backbone: number;
}

/** All-zero timings. */
export function zeroTimings(): StageTimings {
  return { embed: 0, head: 0, other: 0, total: 0, decode: 0, backbone: 0 };
}

/**
 * Timings of one call from its measured parts: the backbone batch's own timings (its `total` is
 * the wall clock of the embed call), the head's wall clock and the call's wall clock.
 */
export function callTimings(embedded: { decode: number; backbone: number; total: number }, headMs: number, totalMs: number): StageTimings {
  return {
    embed: embedded.total,
    head: headMs,
    other: Math.max(0, totalMs - embedded.total - headMs),
    total: totalMs,
    decode: embedded.decode,
    backbone: embedded.backbone,
  };
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addTimings(a: StageTimings, b: StageTimings): StageTimings {
  a.embed += b.embed;
  a.head += b.head;
  a.other += b.other;
  a.total += b.total;
  a.decode += b.decode;
  a.backbone += b.backbone;
  return a;
}

/** Milliseconds since `start` (a `performance.now()` value). */
export function since(start: number): number {
  return performance.now() - start;
}
