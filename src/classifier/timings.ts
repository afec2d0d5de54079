/** Per-stage wall-clock timings that every classifier call reports. */

/**
 * Milliseconds spent per stage. `decode` and `backbone` come from the backbone
 * (its workers decode and run the network; with several workers they overlap, so
 * they may add up to more than `total`); `head` is the native head; `total` is the
 * wall clock of the whole call, glue included.
 * @example
 * const { timings } = await classifier.classify(files); // { decode, backbone, head, total }
 */
export interface StageTimings {
  decode: number;
  backbone: number;
  head: number;
  total: number;
}

/** All-zero timings. */
export function zeroTimings(): StageTimings {
  return { decode: 0, backbone: 0, head: 0, total: 0 };
}

/** Adds `b` into `a` (in place) and returns `a`. */
export function addTimings(a: StageTimings, b: StageTimings): StageTimings {
  a.decode += b.decode;
  a.backbone += b.backbone;
  a.head += b.head;
  a.total += b.total;
  return a;
}

/** Milliseconds since `start` (a `performance.now()` value). */
export function since(start: number): number {
  return performance.now() - start;
}
