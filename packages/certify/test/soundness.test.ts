/**
 * What is tested: end-to-end soundness on a small 1-Lipschitz conv net (random circular convs,
 * MaxMin, invertible downsampling, dense, each linear layer divided by its exact norm): for every
 * certified example, PGD with restarts at a radius just below its certified radius never changes the
 * prediction, while the same attack at 12 times that radius does break examples (so the attack is
 * not toothless here); brokenCertified is 0 on the whole set; the empirical Lipschitz lower bound is
 * below the sound upper bound.
 * What is not tested: trained BCOP models (apps/robustness runs those).
 */
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certifyExportedModel } from '../src/certify-model';
import { empiricalLipschitzLowerBound } from '../src/empirical-lipschitz';
import { forwardOf } from './fixtures';
import { type ExportedForward, networkLipschitzUpperBound } from '@lipschitz/model-format';
import { pgdAttack } from '../src/pgd-attack';
import { unitConvNet } from './fixtures';

describeBackends('certificates are sound against PGD', () => {
  const net = unitConvNet(1);
  const n = 24;
  let forward: ExportedForward;
  let images: tf.Tensor;
  let labels: tf.Tensor1D;
  beforeAll(async () => {
    forward = forwardOf(net);
    images = tf.randomUniform([n, 6, 6, 2], 0, 1, 'float32', 3);
    const predicted = tf.tidy(() => tf.argMax(forward.predict(images), 1));
    const y = Int32Array.from(await predicted.data());
    predicted.dispose();
    for (let i = 5; i < n; i += 6) y[i] = (y[i] + 1) % 10; // a few misclassified examples
    labels = tf.tensor1d(y, 'int32');
  });
  afterAll(() => {
    forward.dispose();
    images.dispose();
    labels.dispose();
  });

  it('PGD just below the certified radius never breaks a certified example; far beyond it does', async () => {
    const bound = networkLipschitzUpperBound(net);
    expect(bound.exactProduct).toBeGreaterThan(0.99);
    expect(bound.exactProduct).toBeLessThan(1.01);
    const report = await certifyExportedModel(net, images, labels, { epsilons: [0.01, 0.05], batchSize: 10 });
    expect(report.clean).toBe(20 / 24);
    const { radii, correct } = report.examples;
    const certified = Array.from(radii.keys()).filter((i) => correct[i] === 1 && radii[i] > 0).sort((a, b) => radii[b] - radii[a]);
    expect(certified.length).toBeGreaterThanOrEqual(6);
    let brokenFarBeyond = 0;
    for (const i of certified.slice(0, 4)) {
      const x = tf.slice(images, i, 1);
      const y = tf.slice(labels, i, 1);
      const r = radii[i];
      const below = await pgdAttack(forward.predict, x, y, { epsilon: 0.999 * r, steps: 50, stepSize: r / 10, restarts: 1, seed: i });
      expect(below.broken[0], `certified example ${i} (radius ${r}) broken below its radius`).toBe(0);
      // this random net's local Lipschitz constant is about 0.3 (see the lower-bound test), so its
      // true robust radius is a few times the certified one: attack at 12× to show PGD bites here
      const beyond = await pgdAttack(forward.predict, x, y, { epsilon: 12 * r, steps: 50, stepSize: (12 * r) / 8, seed: i });
      brokenFarBeyond += beyond.broken[0];
      x.dispose();
      y.dispose();
    }
    expect(brokenFarBeyond).toBeGreaterThan(0);
  });

  it('brokenCertified is 0 on the whole set at the median certified radius', async () => {
    const report = await certifyExportedModel(net, images, labels, { epsilons: [] });
    const sorted = Array.from(report.examples.radii).filter((r) => r > 0).sort((a, b) => a - b);
    const epsilon = sorted[Math.floor(sorted.length / 2)];
    const attack = await pgdAttack(forward.predict, images, labels, { epsilon, steps: 25, stepSize: epsilon / 5, restarts: 1, certifiedRadii: report.examples.radii });
    expect(attack.brokenCertified).toBe(0);
    expect(attack.robustAccuracy).toBeLessThanOrEqual(report.clean);
  });

  it('the empirical Lipschitz lower bound stays below the sound upper bound', async () => {
    const upper = networkLipschitzUpperBound(net).assumedFloat32Bound;
    const lower = await empiricalLipschitzLowerBound(forward.predict, tf.slice(images, 0, 8), { pairs: 4, iterations: 6 });
    expect(lower.lipschitzLowerBound).toBeLessThanOrEqual(upper);
    expect(lower.jacobianNormLowerBound).toBeGreaterThan(0.05);
    expect(lower.pairRatioLowerBound).toBeGreaterThan(0.05);
    expect(lower.lipschitzLowerBound).toBe(Math.max(lower.jacobianNormLowerBound, lower.pairRatioLowerBound));
  });
});
