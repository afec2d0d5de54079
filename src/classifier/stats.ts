/**
 * The small numeric helpers of the classifier: softmax over logits and the
 * mean / 95% confidence interval that few-shot papers report.
 */

/**
 * Softmax in float64, stable for large logits (subtracts the maximum first).
 * @example softmax([0, Math.log(3)]) // [0.25, 0.75]
 */
export function softmax(logits: ArrayLike<number>): number[] {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  const out = new Array<number>(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  return out;
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Population standard deviation (divides by n), as numpy's `np.std` does; the
 * authors' evaluation computes its interval with it.
 */
export function populationStd(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / values.length);
}

/**
 * Half-width of the 95% confidence interval of the mean: 1.96 * std / sqrt(n),
 * with the population std (the convention of few-shot papers).
 * @example ci95([0.4, 0.6]) // 1.96 * 0.1 / Math.sqrt(2)
 */
export function ci95(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return (1.96 * populationStd(values)) / Math.sqrt(values.length);
}
