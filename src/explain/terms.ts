/**
 * The terms of one query's logits, as the native head computed them (docs/computation.md §3.2-3.4): the
 * engine records them while it scores (HeadTrace in native/core/head.h), and this module only
 * arranges its flat arrays by class, support image and tap. No LWFM-SPM arithmetic happens
 * here; only the selection of which matched pixels were the top-k (for display).
 */

/**
 * One tap of one (query, support image) pair.
 * @example
 * const tap = explanation.classes[0].supports[0].taps[0];
 * tap.assignment?.forEach((j, i) => console.log(`support cell ${i} -> query cell ${j}: ${tap.similarity![i]}`));
 */
export interface TapTerms {
  /** Position of the tap in the model's tap list. */
  tap: number;
  /** a_s: attention weight of each support pixel (P values, row-major F x F). */
  supportAttention: number[];
  /** a_q: attention weight of each query pixel (P values). */
  queryAttention: number[];
  /** sigma: query pixel matched to each support pixel; null when matching is off (matcherWeight 0). */
  assignment: number[] | null;
  /** cos(u_i, v_sigma(i)) for each support pixel i; null when matching is off. */
  similarity: number[] | null;
  /** Support pixels whose similarities were the topK largest (summed into `match`), best first. */
  topK: number[] | null;
  /** m_l: the sum of those topK similarities; null when matching is off. */
  match: number | null;
}

/**
 * One support image of a class, against the query.
 * @example
 * const best = explanation.classes[0].supports[0]; // best-matching shot first
 * console.log(best.support, best.match, best.bestTap);
 */
export interface SupportTerms {
  /** Index of the image in the support set (the order it was given in). */
  support: number;
  /** m(q, s) = matcherWeight x max over taps of m_l (0 when matching is off). */
  match: number;
  /** Tap whose m_l was the largest (the one `match` took); 0 when matching is off. */
  bestTap: number;
  taps: TapTerms[];
}

/**
 * One class's logit and its two terms: logit = (global + matching) / temperature.
 * @example
 * const c = explanation.classes[0];
 * console.log(c.logit, (c.global + c.matching) / explanation.temperature);
 */
export interface ClassTerms {
  /** Class index (position in the support set's labels). */
  index: number;
  logit: number;
  /** g(q, k): cosine of the pooled attended support and query maps (docs/computation.md §3.4). */
  global: number;
  /** M(q, k): mean over the class's shots of m(q, s). */
  matching: number;
  /** The class's support images, best-matching first (by `match`, then by index). */
  supports: SupportTerms[];
}

/**
 * The head's explanation of one query: every class, in class-index order.
 * @example
 * const terms = await head.explain(support, queryFeatures);
 * const predicted = terms.classes.reduce((a, b) => (b.logit > a.logit ? b : a));
 */
export interface HeadExplanation {
  way: number;
  featureSize: number;
  temperature: number;
  matcherWeight: number;
  topK: number;
  /** Channels per tap. */
  channels: readonly number[];
  classes: ClassTerms[];
}

/** The flat arrays the native explain call returns (see HeadTrace). */
export interface NativeTrace {
  logits: Float32Array;
  attention: Float32Array;
  sigma: Int32Array;
  similarity: Float32Array;
  tapMatch: Float32Array;
  pairMatch: Float32Array;
  global: Float64Array;
  matching: Float64Array;
}

/** What `arrangeTrace` needs to know about the head and the support set. */
export interface TraceLayout {
  channels: readonly number[];
  featureSize: number;
  temperature: number;
  matcherWeight: number;
  topK: number;
  /** Class index of each support image, in support order. */
  labels: ArrayLike<number>;
}

/** Indices of the k largest values, largest first (ties: lower index first). */
function topIndices(values: readonly number[], k: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

/**
 * Arranges the native trace of one query by class, support image and tap.
 * @example
 * const terms = arrangeTrace(await native.headExplain(handle, support, query), layout);
 */
export function arrangeTrace(trace: NativeTrace, layout: TraceLayout): HeadExplanation {
  const taps = layout.channels.length;
  const p = layout.featureSize * layout.featureSize;
  const matching = layout.matcherWeight !== 0;
  const way = trace.logits.length;
  const perSupport = (s: number): SupportTerms => {
    const tapTerms: TapTerms[] = [];
    let bestTap = 0;
    for (let l = 0; l < taps; l++) {
      const at = (s * taps + l) * 2 * p;
      const px = (s * taps + l) * p;
      const similarity = matching ? Array.from(trace.similarity.subarray(px, px + p)) : null;
      const match = matching ? trace.tapMatch[s * taps + l]! : null;
      if (match !== null && match > (tapTerms[bestTap]?.match ?? -Infinity)) bestTap = l;
      tapTerms.push({
        tap: l,
        supportAttention: Array.from(trace.attention.subarray(at, at + p)),
        queryAttention: Array.from(trace.attention.subarray(at + p, at + 2 * p)),
        assignment: matching ? Array.from(trace.sigma.subarray(px, px + p)) : null,
        similarity,
        topK: similarity ? topIndices(similarity, layout.topK) : null,
        match,
      });
    }
    return { support: s, match: trace.pairMatch[s]!, bestTap, taps: tapTerms };
  };
  const classes: ClassTerms[] = Array.from({ length: way }, (_, k) => ({
    index: k,
    logit: trace.logits[k]!,
    global: trace.global[k]!,
    matching: trace.matching[k]!,
    supports: [],
  }));
  for (let s = 0; s < layout.labels.length; s++) classes[layout.labels[s]!]!.supports.push(perSupport(s));
  for (const c of classes) c.supports.sort((a, b) => b.match - a.match || a.support - b.support);
  return {
    way,
    featureSize: layout.featureSize,
    temperature: layout.temperature,
    matcherWeight: layout.matcherWeight,
    topK: layout.topK,
    channels: layout.channels,
    classes,
  };
}
