/**
 * classifier.explain: one query against the stored support set, every term of its logits
 * from the head (src/explain), with labels and the images involved.
 */
import type { ImageInput, ImageTensor } from '../backbone/types.js';
import { checkExplainOptions, classIndices, explainWith } from '../explain/explain_query.js';
import type { Explanation } from '../explain/explanation.js';
import { expectedMessage } from '../validate.js';
import { asImageError, countInputs, describeSource, type ImageInputs } from './inputs.js';
import type { EngineRuntime } from './runtime.js';
import type { SupportSet } from './support_set.js';

/** The single query as the backbone takes it: a one-image list, or a [1, 3, S, S] tensor. */
function oneImage(query: unknown): ImageInputs {
  if (typeof query === 'string' || query instanceof Uint8Array) {
    countInputs([query], 'query');
    return [query];
  }
  if (Array.isArray(query))
    throw new TypeError(expectedMessage('one image (a path, encoded bytes or a [1, 3, S, S] tensor)', 'query', query));
  const n = countInputs(query, 'query');
  if (n !== 1)
    throw new RangeError(expectedMessage('tensor of exactly one image (dims [1, 3, S, S])', 'query.dims', (query as ImageTensor).dims));
  return query as ImageTensor;
}

/** See FewShotClassifier.explain. */
export async function explainQuery(
  rt: EngineRuntime,
  support: SupportSet,
  query: ImageInput | ImageTensor,
  options: unknown,
): Promise<Explanation> {
  const checked = checkExplainOptions(options);
  const inputs = oneImage(query);
  support.expectPresent();
  classIndices(support.labels, checked.classes); // an unknown label fails before the backbone runs
  const raw = await rt.embed(inputs);
  rt.alive();
  const error = raw.errors[0];
  if (error) throw asImageError(error, describeSource(inputs, 0));
  const state = support.acquire();
  try {
    const { resize, crop } = rt.engine.model;
    return await rt.run(
      explainWith({
        head: rt.engine.head,
        support: state.prepared,
        labels: state.map.labels,
        sources: state.sources,
        queryFeatures: raw.data,
        querySource: Array.isArray(inputs) ? inputs[0] : undefined,
        geometry: { resize: resize ?? crop, crop },
        options: checked,
      }),
    );
  } finally {
    support.release(state);
  }
}
