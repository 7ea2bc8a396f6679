import { describe, expect, it } from 'vitest';
import { classCounts, subset } from './image-set';
import { syntheticImages } from './synthetic';

describe('subset and classCounts', () => {
  const set = syntheticImages({ count: 10, height: 2, width: 3, channels: 1, numClasses: 3, seed: 0 });

  it('subset returns views of the requested examples', () => {
    const part = subset(set, 4, 3);
    expect([part.count, part.height, part.width, part.channels, part.numClasses]).toEqual([3, 2, 3, 1, 3]);
    expect(part.images).toEqual(set.images.subarray(24, 42));
    expect(part.labels).toEqual(set.labels.subarray(4, 7));
    expect(part.images.buffer).toBe(set.images.buffer);
    expect(part.name).toBe(`${set.name}[4:7]`);
    expect(subset(set, 10, 0).count).toBe(0);
  });

  it('classCounts counts labels per class', () => {
    const expected = [0, 0, 0];
    for (const l of set.labels) expected[l]++;
    expect(Array.from(classCounts(set))).toEqual(expected);
    expect(expected.reduce((a, b) => a + b)).toBe(10);
  });

  it('rejects ranges outside the set and malformed sets', () => {
    expect(() => subset(set, 8, 3)).toThrow(/^subset: the range \[8, 11\) leaves the set .* of 10 examples\. Pass start \+ count <= 10\./);
    expect(() => subset(set, -1, 2)).toThrow(/^subset: start must be a non-negative integer, got -1/);
    expect(() => subset({ ...set, labels: new Int32Array(2) }, 0, 1)).toThrow(/^subset: set must be an ImageSet/);
    expect(() => classCounts({} as never)).toThrow(/^classCounts: set must be an ImageSet/);
  });
});
