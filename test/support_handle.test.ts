/** createSupportSet(): independent support sets sharing one classifier's backbone and head. */
import { describe, expect, it } from 'vitest';
import { classifierFromEngine, type Prediction } from '../src/classifier/classifier.js';
import { DisposedError, LwfmError } from '../src/errors.js';
import { fakeEngine, fakeNativeInfo } from './support/fakes.js';

function setup() {
  const engine = fakeEngine(0.2);
  return { engine, classifier: classifierFromEngine(engine, fakeNativeInfo) };
}

describe('SupportSetHandle', () => {
  it('keeps sets apart from each other and from the classifier own set, with the same scores as the classifier', async () => {
    const { classifier } = setup();
    await classifier.setSupport(['cat-1', 'dog-1', 'eel-1'], ['cat', 'dog', 'eel']);
    const reference = classifier.exportSupport();
    const pets = classifier.createSupportSet();
    const fish = classifier.createSupportSet();
    await pets.importSupport({ ...reference, features: reference.features.slice(0, 2 * 8), dims: [2, 8, 1], labels: ['cat', 'dog'] });
    await fish.importSupport(reference);
    expect(pets.labels).toEqual(['cat', 'dog']);
    expect(fish.labels).toEqual(['cat', 'dog', 'eel']);
    expect(classifier.labels).toEqual(['cat', 'dog', 'eel']);
    const queries = ['cat-7', 'eel-7'];
    const mine = (await classifier.classify(queries)) as Prediction[];
    const theirs = (await fish.classify(queries)) as Prediction[];
    expect(theirs.map((r) => r.logits)).toEqual(mine.map((r) => r.logits));
    const two = await pets.classify(queries);
    expect(two.labels).toEqual(['cat', 'dog']);
    expect(pets.exportSupport().labels).toEqual(['cat', 'dog']);
    await classifier.dispose();
  });

  it('a classify in flight finishes on the set it started with while the set is replaced', async () => {
    const { classifier } = setup();
    const h = classifier.createSupportSet();
    await classifier.setSupport(['cat-1', 'dog-1'], ['cat', 'dog']);
    await h.importSupport(classifier.exportSupport());
    const inFlight = h.classify(['cat-3']);
    const replaced = h.importSupport({ ...classifier.exportSupport(), labels: ['x', 'y'] });
    const [result] = await Promise.all([inFlight, replaced]);
    expect(result[0]!.error).toBeUndefined();
    expect((await h.classify(['cat-3'])).labels).toEqual(['x', 'y']);
    await classifier.dispose();
  });

  it('dispose: of the handle, then of the classifier, with named errors afterwards', async () => {
    const { classifier, engine } = setup();
    const a = classifier.createSupportSet();
    const b = classifier.createSupportSet();
    await expect(a.classify(['cat-1'])).rejects.toMatchObject({ code: 'ERR_LWFM_NO_SUPPORT' });
    await classifier.setSupport(['cat-1', 'dog-1'], ['cat', 'dog']);
    await a.importSupport(classifier.exportSupport());
    await b.importSupport(classifier.exportSupport());
    const preparedBefore = engine.head.prepared.filter((p) => !p.disposed).length;
    a.dispose();
    a.dispose();
    await expect(a.classify(['cat-1'])).rejects.toBeInstanceOf(DisposedError);
    expect(engine.head.prepared.filter((p) => !p.disposed).length).toBe(preparedBefore - 1);
    await classifier.dispose();
    expect(engine.head.prepared.every((p) => p.disposed)).toBe(true);
    await expect(b.classify(['cat-1'])).rejects.toBeInstanceOf(LwfmError);
    expect(() => classifier.createSupportSet()).toThrow(DisposedError);
  });
});
