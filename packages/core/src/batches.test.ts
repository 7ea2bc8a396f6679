/**
 * What is tested here: the core batcher's own contract — every example exactly once per epoch in the seeded order,
 * the last partial batch kept, an augmentation function applied to a copy, and the named augmentations refused with
 * a pointer to `@lipschitz/datasets`. The full behaviour (limits, dropLast, SeededRandom advancing, leaks) is tested
 * through `batches` of `@lipschitz/datasets` (packages/datasets/src/batches.test.ts), which is this batcher.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeBackends } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { type AugmentFn, batches, numBatches } from './batches';
import type { ImageSet } from './image-set';
import { SeededRandom } from './random';

function labelledSet(count: number): ImageSet {
  const images = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) images.set([i, -i], 2 * i);
  const labels = Int32Array.from({ length: count }, (_, i) => i);
  return { images, labels, count, height: 1, width: 2, channels: 1, numClasses: count, name: 'labelled' };
}

describeBackends('batches (core)', () => {
  it('yields every example once, in the seeded permutation, keeping the last partial batch', async () => {
    const set = labelledSet(10);
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const { x, y, size } of batches(set, { batchSize: 4, shuffle: true, seed: 7 })) {
      const labels = Array.from(await y.data());
      const pixels = Array.from(await x.data());
      expect(labels.map((_, i) => pixels[2 * i])).toEqual(labels);
      seen.push(...labels);
      sizes.push(size);
      tf.dispose([x, y]);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(seen).toEqual(Array.from(new SeededRandom(7).permutation(10)));
    expect(numBatches(set, 4)).toBe(3);
    expect(numBatches(set, 4, undefined, true)).toBe(2);
  });

  it('applies an augmentation function to the batch copy, never to the set', async () => {
    const set = labelledSet(3);
    const negate: AugmentFn = (batch) => {
      for (let i = 0; i < batch.length; i++) batch[i] = -batch[i];
    };
    const [batch] = [...batches(set, { batchSize: 3, augment: negate, seed: 0 })];
    expect(Array.from(await batch.x.data())).toEqual([-0, 0, -1, 1, -2, 2]);
    expect(Array.from(set.images)).toEqual([0, -0, 1, -1, 2, -2]);
    tf.dispose([batch.x, batch.y]);
  });

  it("refuses a named augmentation, pointing at @lipschitz/datasets, and a shuffle without a seed", () => {
    const set = labelledSet(3);
    expect(() => batches(set, { batchSize: 2, augment: 'cifar' as never, seed: 0 })).toThrow(/named augmentations such as 'cifar' are those of batches from @lipschitz\/datasets/);
    expect(() => batches(set, { batchSize: 2, shuffle: true })).toThrow(/shuffle needs a seed/);
  });
});
