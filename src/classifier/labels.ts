/**
 * Maps user labels (strings or numbers) to the dense class indices 0..way-1 the
 * head works with, in order of first appearance, and back.
 */
import { expectedMessage } from '../validate.js';

/**
 * A class label as users give it.
 * @example
 * await classifier.setSupport(files, ['cat', 'dog']); // or [0, 1]
 */
export type Label = string | number;

/** Throws unless `value` is a usable label: a string or a finite number. */
export function expectLabel(value: unknown, name: string): Label {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(expectedMessage('finite number or string label', name, value));
    return value;
  }
  throw new TypeError(expectedMessage('string or number label', name, value));
}

/**
 * Label <-> index map. `1` and `'1'` are different labels.
 * @example
 * const map = new LabelMap();
 * map.indicesOf(['cat', 'dog', 'cat']); // [0, 1, 0]
 * map.label(1); // 'dog'
 */
export class LabelMap {
  readonly #index = new Map<Label, number>();
  readonly #labels: Label[] = [];

  /** Labels in index order. */
  get labels(): readonly Label[] {
    return this.#labels;
  }

  /** Number of distinct labels. */
  get size(): number {
    return this.#labels.length;
  }

  /** Index of `label`, or undefined when unknown. */
  indexOf(label: Label): number | undefined {
    return this.#index.get(label);
  }

  /** Index of `label`, adding it when new. */
  add(label: Label): number {
    let i = this.#index.get(label);
    if (i === undefined) {
      i = this.#labels.length;
      this.#labels.push(label);
      this.#index.set(label, i);
    }
    return i;
  }

  /** Label of index `i`. */
  label(i: number): Label {
    const l = this.#labels[i];
    if (l === undefined) throw new RangeError(`Expected class index in [0, ${this.#labels.length}) but received ${i}`);
    return l;
  }

  /**
   * Validates every label and returns their indices, adding new labels in order
   * of first appearance.
   */
  indicesOf(labels: readonly unknown[], name = 'labels'): Int32Array {
    const out = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) out[i] = this.add(expectLabel(labels[i], `${name}[${i}]`));
    return out;
  }

  /** A copy that can grow independently. */
  clone(): LabelMap {
    const copy = new LabelMap();
    for (const l of this.#labels) copy.add(l);
    return copy;
  }
}
