/**
 * The classifier-level explanation of one prediction: the head's terms (terms.ts) with labels,
 * probabilities and the images involved, for the classes that matter most.
 */
import type { Label } from '../classifier/labels.js';
import type { ClassTerms, HeadExplanation, SupportTerms } from './terms.js';

/**
 * An image as the explanation refers to it: a file path or the encoded bytes that were
 * given, or undefined when only its embedding is known (e.g. a support set from importSupport).
 * @example
 * const src: ExplainedImage = explanation.query.source; // 'photo.jpg'
 */
export type ExplainedImage = string | Uint8Array | undefined;

/**
 * A support image's terms with its source image.
 * @example
 * const best = explanation.classes[0].supports[0];
 * console.log(best.source, best.match, best.taps[best.bestTap].assignment);
 */
export interface SupportExplanation extends SupportTerms {
  source: ExplainedImage;
}

/**
 * A class's logit and its two terms, with its label and probability.
 * @example
 * for (const c of explanation.classes) console.log(c.label, c.logit, c.global, c.matching);
 */
export interface ClassExplanation extends Omit<ClassTerms, 'supports'> {
  label: Label;
  /** Softmax of the logits over all classes. */
  probability: number;
  supports: SupportExplanation[];
}

/**
 * Why a query got its prediction: per class (sorted by logit, best first, `topClasses` of
 * them) logit = (global + matching) / temperature, and per support image and tap the
 * attention weights, the pixel assignment and the matched similarities. The head's settings
 * (way = every class of the support set, featureSize, temperature, ...) come with it.
 * @example
 * const ex = await classifier.explain('query.jpg', { topClasses: 3 });
 * console.log(ex.prediction.label, ex.classes.map((c) => [c.label, c.global, c.matching]));
 */
export interface Explanation extends Omit<HeadExplanation, 'classes'> {
  prediction: { label: Label; index: number; logit: number; probability: number };
  query: { source: ExplainedImage };
  /** Classes sorted by logit, best first. */
  classes: ClassExplanation[];
  /** What the model sees of an image: resized to resize x resize, then center-cropped to crop. */
  geometry: { resize: number; crop: number };
}
