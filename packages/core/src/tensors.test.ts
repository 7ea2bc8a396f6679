import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { disposeAll, sizeOf, takeData, withDisposal } from './tensors';

describeBackends('tensor helpers', () => {
  it('disposeAll walks arrays and objects and is idempotent', () => {
    const before = tf.memory().numTensors;
    const bag = { a: tf.ones([2]), b: [tf.zeros([1]), { c: tf.scalar(1) }], d: 3, e: null };
    expect(tf.memory().numTensors).toBe(before + 3);
    disposeAll(bag);
    disposeAll(bag);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takeData and withDisposal dispose their tensor even when the callback throws', async () => {
    const before = tf.memory().numTensors;
    expect(Array.from(await takeData(tf.tensor1d([4, 5])))).toEqual([4, 5]);
    expect(await withDisposal(tf.ones([3]), (t) => t.size)).toBe(3);
    await expect(withDisposal(tf.ones([3]), () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sizeOf', () => {
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([])).toBe(1);
  });
});
