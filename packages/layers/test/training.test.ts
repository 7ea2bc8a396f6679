import { mnist } from '@lipschitz/datasets';
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { smallConvNet } from '../src/index';

/**
 * The reference's multi-margin hinge loss (reference-bcop.md §7, `F.multi_margin_loss(p=1)`):
 * `mean_n (1/C) Σ_{i≠y} max(0, margin − z_y + z_i)`, margin = √2·ε (ε = 1.5 for MNIST).
 */
function hingeLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, margin = Math.SQRT2 * 1.5): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
    const target = tf.sum(tf.mul(logits, oneHot), 1, true);
    const terms = tf.relu(tf.add(tf.sub(logits, target), margin));
    // The i = y term is max(0, margin) = margin; remove it.
    const perExample = tf.div(tf.sub(tf.sum(terms, 1), margin), classes);
    return tf.mean(perExample) as tf.Scalar;
  });
}

describeBackends(
  'training smallConvNet (BCOP) on real MNIST',
  () => {
    it.each([
      ['unrolled (Björck-20 every forward, the reference scheme)', 'unrolled'],
      ['projected (the default: rescaling forward, Newton–Schulz retraction after each step)', 'projected'],
    ] as const)('reduces the hinge loss over 200 Adam steps, %s, and stays 1-Lipschitz', async (_, orthogonalization) => {
      const { train } = await mnist({ trainLimit: 2000, testLimit: 0 });
      const n = train.count;
      const images = tf.tensor4d(train.images, [n, 28, 28, 1]);
      const labels = tf.tensor1d(train.labels, 'int32');
      const model = smallConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: [28, 28, 1], seed: 0, orthogonalization });
      const evaluate = async () => {
        model.freeze();
        const loss = tf.tidy(() => hingeLoss(model.apply(images) as tf.Tensor2D, labels));
        const value = (await loss.data())[0];
        loss.dispose();
        model.unfreeze();
        return value;
      };
      const before = await evaluate();
      const optimizer = tf.train.adam(1e-3);
      const batch = 32;
      for (let step = 0; step < 200; step++) {
        const start = (step * batch) % (n - batch);
        const cost = optimizer.minimize(
          () => tf.tidy(() => hingeLoss(model.apply(tf.slice(images, [start, 0, 0, 0], [batch, 28, 28, 1])) as tf.Tensor2D, tf.slice(labels, start, batch))),
          false,
          model.trainableVariables,
        );
        cost?.dispose();
        await model.afterStep(step + 1); // the projected retraction; nothing for unrolled
      }
      const after = await evaluate();
      expect(before).toBeGreaterThan(1.5);
      expect(after).toBeLessThan(0.25 * before);
      model.freeze();
      const bound = await model.lipschitzUpperBound([28, 28, 1]);
      expect(bound).toBeLessThanOrEqual(1 + 1e-4);
      for (const layerBound of await model.layerBounds([28, 28, 1])) expect(layerBound).toBeLessThanOrEqual(1 + 1e-4);
      console.log(`hinge loss ${before.toFixed(4)} → ${after.toFixed(4)}, bound ${bound}`);
      model.dispose();
      optimizer.dispose();
      tf.dispose([images, labels]);
    }, 600_000); // about 30 s on an idle 2-core machine
  },
  ['wasm'],
);
