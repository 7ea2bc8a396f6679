import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { bcopConv2d } from './bcop-conv2d';
import { bjorckDense } from './bjorck-dense';

describeBackends('LayerBase caching', () => {
  it('a layer frozen inside a caller’s tf.tidy keeps its cache after the tidy ends', async () => {
    const conv = bcopConv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, seed: 3 });
    const dense = bjorckDense({ inputs: 3, outputs: 2, seed: 4 });
    try {
      tf.tidy(() => {
        conv.freeze();
        dense.freeze();
      });
      const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 5);
      const frozen = await conv.apply(x).data();
      expect(Array.from(frozen).every(Number.isFinite)).toBe(true);
      expect(await dense.lipschitzUpperBound([3])).toBeLessThan(1.0001);
      conv.unfreeze();
      const live = await conv.apply(x).data();
      for (let i = 0; i < live.length; i++) expect(Math.abs(live[i] - frozen[i])).toBeLessThan(1e-5);
    } finally {
      conv.dispose();
      dense.dispose();
    }
  });
});
