import { describe, expect, it } from 'vitest';
import { LabelMap } from '../src/classifier/labels.js';

describe('LabelMap', () => {
  it('numbers labels by first appearance and maps back', () => {
    const map = new LabelMap();
    expect(Array.from(map.indicesOf(['dog', 'cat', 'dog', 'bird']))).toEqual([0, 1, 0, 2]);
    expect(map.labels).toEqual(['dog', 'cat', 'bird']);
    expect(map.label(1)).toBe('cat');
    expect(map.indexOf('bird')).toBe(2);
    expect(map.indexOf('fish')).toBeUndefined();
  });
  it('keeps numeric labels as numbers, distinct from their strings', () => {
    const map = new LabelMap();
    expect(Array.from(map.indicesOf([7, '7', 7, 3.5]))).toEqual([0, 1, 0, 2]);
    expect(map.labels).toEqual([7, '7', 3.5]);
  });
  it('grows a clone without touching the original', () => {
    const map = new LabelMap();
    map.indicesOf(['a']);
    const copy = map.clone();
    copy.add('b');
    expect(map.size).toBe(1);
    expect(copy.labels).toEqual(['a', 'b']);
  });
  it('rejects labels that are not strings or finite numbers', () => {
    const map = new LabelMap();
    expect(() => map.indicesOf(['a', { x: 1 }])).toThrow(TypeError);
    expect(() => map.indicesOf(['a', { x: 1 }])).toThrow(
      'Expected string or number label for labels[1] but received Object of type object',
    );
    expect(() => map.indicesOf([Number.NaN])).toThrow(RangeError);
    expect(() => map.indicesOf([null])).toThrow(TypeError);
    expect(() => map.label(5)).toThrow(RangeError);
  });
});
