/**
 * From the head's terms (class indices) to the classifier's explanation (labels, probabilities,
 * images), keeping the `topClasses` best classes.
 */
import { expectLabel, type Label } from '../classifier/labels.js';
import { softmax } from '../classifier/stats.js';
import { LwfmError } from '../errors.js';
import { expectOptions, expectPositiveInteger, expectedMessage } from '../validate.js';
import type { ExplainedImage, Explanation } from './explanation.js';
import type { HeadExplanation } from './terms.js';

/**
 * Options of `classifier.explain`.
 * @example
 * await classifier.explain('q.jpg', { topClasses: 5 });
 */
export interface ExplainOptions {
  /** How many classes to explain, best logit first. Default 3 (at most the support set's way). */
  topClasses?: number;
  /**
   * Explain exactly these classes instead (e.g. the true class of a wrong prediction next to
   * the predicted one); still sorted by logit. Each must be a label of the support set.
   */
  classes?: Label[];
}

/** Checked `classifier.explain` options. */
export interface CheckedExplainOptions {
  topClasses: number;
  classes: Label[] | undefined;
}

/** Checks `classifier.explain`'s options. */
export function checkExplainOptions(options: unknown): CheckedExplainOptions {
  const o = expectOptions(options, 'options');
  const topClasses = o.topClasses === undefined ? 3 : expectPositiveInteger(o.topClasses, 'options.topClasses', 100_000);
  let classes: Label[] | undefined;
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes) || o.classes.length === 0) {
      throw new TypeError(expectedMessage('non-empty array of labels', 'options.classes', o.classes));
    }
    classes = (o.classes as unknown[]).map((l, i) => expectLabel(l, `options.classes[${i}]`));
  }
  return { topClasses, classes };
}

/** A head that can explain (the real Head can; test doubles may not). */
export interface ExplainingHead<S> {
  explain?(support: S, query: Float32Array, index?: number): Promise<HeadExplanation>;
}

/** Everything one explanation is made from. */
export interface ExplainParts<S> {
  head: ExplainingHead<S>;
  support: S;
  /** Labels in class-index order. */
  labels: readonly Label[];
  /** Source image of each support image, in support order (undefined when unknown). */
  sources: readonly ExplainedImage[] | undefined;
  queryFeatures: Float32Array;
  querySource: ExplainedImage;
  geometry: { resize: number; crop: number };
  options: CheckedExplainOptions;
}

/** Class indices of the labels asked for; RangeError naming an unknown one (before any work). */
export function classIndices(labels: readonly Label[], asked: readonly Label[] | undefined): number[] | undefined {
  return asked?.map((label, i) => {
    const k = labels.indexOf(label);
    if (k < 0) {
      throw new RangeError(
        expectedMessage(`a label of the support set (${labels.map((l) => JSON.stringify(l)).join(', ')})`, `options.classes[${i}]`, label),
      );
    }
    return k;
  });
}

/**
 * Runs the head's explain and arranges it for people: labels, probabilities, sources, and the
 * classes sorted by logit.
 * @example
 * const explanation = await explainWith({ head, support, labels, sources, queryFeatures, querySource, geometry, options: { topClasses: 3, classes: undefined } });
 */
export async function explainWith<S>(parts: ExplainParts<S>): Promise<Explanation> {
  if (typeof parts.head.explain !== 'function') {
    throw new LwfmError("This classifier's head cannot explain predictions (it has no explain())", 'ERR_LWFM_UNSUPPORTED');
  }
  const terms = await parts.head.explain(parts.support, parts.queryFeatures, 0);
  const probabilities = softmax(terms.classes.map((c) => c.logit));
  const ranked = [...terms.classes].sort((a, b) => b.logit - a.logit || a.index - b.index);
  const best = ranked[0]!;
  const asked = classIndices(parts.labels, parts.options.classes);
  const shown = asked ? ranked.filter((c) => asked.includes(c.index)) : ranked.slice(0, parts.options.topClasses);
  const classes = shown.map((c) => ({
    ...c,
    label: parts.labels[c.index]!,
    probability: probabilities[c.index]!,
    supports: c.supports.map((s) => ({ ...s, source: parts.sources?.[s.support] })),
  }));
  return {
    prediction: { label: parts.labels[best.index]!, index: best.index, logit: best.logit, probability: probabilities[best.index]! },
    query: { source: parts.querySource },
    classes,
    way: terms.way,
    featureSize: terms.featureSize,
    temperature: terms.temperature,
    matcherWeight: terms.matcherWeight,
    topK: terms.topK,
    channels: terms.channels,
    geometry: parts.geometry,
  };
}
