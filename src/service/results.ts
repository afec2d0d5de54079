/**
 * Classifier results as the API returns them: per query `{ label, index, probabilities }`
 * or `{ error: { code, message } }`, plus the labels and the stage timings; the
 * request's images and errors are counted in the metrics on the way.
 */
import type { Classification } from '../classifier/types.js';
import type { Label } from '../classifier/labels.js';
import type { ServiceContext } from './context.js';

/** One query's result in the API. */
export type ApiResult = { label: Label; index: number; probabilities: number[] } | { error: { code: string; message: string } };

/**
 * The reply body of a classification, metrics recorded.
 * @example
 * return classificationReply(ctx, await registry.classify(id, images));
 */
export function classificationReply(
  ctx: ServiceContext,
  result: Classification,
): { results: ApiResult[]; labels: Label[]; timings: Classification['timings'] } {
  let failed = 0;
  const results = result.map((r): ApiResult => {
    if (r.error) {
      failed++;
      ctx.metrics?.error(r.error.code);
      return { error: { code: r.error.code, message: r.error.message } };
    }
    return { label: r.label, index: r.index, probabilities: r.probabilities };
  });
  ctx.metrics?.images(results.length - failed, failed);
  ctx.metrics?.stages(result.timings);
  return { results, labels: [...result.labels], timings: result.timings };
}
