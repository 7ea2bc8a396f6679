import { describeBackends, expectClose, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { cayleyConv2d } from './cayley-conv2d';
import type { LayerModule } from './layer-base';
import type { ConvLayerOptions } from './conv-options';
import { ossnConv2d } from './ossn-conv2d';
import { deserializeModel, serializeModel } from './serialize-model';
import { svcmConv2d } from './svcm-conv2d';

// The conv layers whose state depends on the input size, learned at their first apply when not given.
const LAZY_SIZE_LAYERS: [string, (options: ConvLayerOptions) => LayerModule][] = [
  ['ossnConv2d', ossnConv2d],
  ['svcmConv2d', svcmConv2d],
  ['cayleyConv2d', cayleyConv2d],
];

describeBackends('conv layers that learn their input size', () => {
  for (const [name, factory] of LAZY_SIZE_LAYERS) {
    it(`${name} keeps its state when first used inside a caller's tf.tidy / gradient`, async () => {
      const layer = factory({ inChannels: 2, outChannels: 2, kernelSize: 3, seed: 8 });
      const x = seededNormal([1, 4, 4, 2], 3);
      tf.tidy(() => {
        tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables);
      });
      const again = tf.tidy(() => layer.apply(x));
      expect(again.shape).toEqual([1, 4, 4, 2]);
      layer.freeze();
      await expectClose(tf.tidy(() => layer.apply(x)), again, { atol: 1e-5 });
      expect(await layer.lipschitzUpperBound([4, 4, 2])).toBeGreaterThan(0);
      layer.dispose();
    });

    it(`${name} survives serializeModel / deserializeModel with a size learned at the first apply (same outputs and bound)`, async () => {
      const layer = factory({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, seed: 3 });
      const x = seededNormal([2, 8, 8, 1], 1);
      tf.tidy(() => {
        tf.variableGrads(() => tf.sum(layer.apply(x)) as tf.Scalar, layer.trainableVariables);
      });
      layer.freeze();
      const loaded = await deserializeModel(await serializeModel(layer));
      loaded.model.freeze();
      await expectClose(loaded.model.apply(x), layer.apply(x), { atol: 1e-6 });
      expect(await loaded.model.lipschitzUpperBound([8, 8, 1])).toBeCloseTo(await layer.lipschitzUpperBound([8, 8, 1]), 6);
      loaded.model.dispose();
      layer.dispose();
    });
  }
});
