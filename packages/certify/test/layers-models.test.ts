/**
 * What is tested (cross-package, @lipschitz/layers): on the paper's Small network with BCOP convs and
 * Björck dense layers (8×8 inputs to stay fast), the per-layer exact norms are ≈ 1 (orthogonal layers)
 * and the bound agrees with the model's own; certifyModel and certifyExportedModel (through
 * exportModel) agree; the private plain-ops runner matches layers' loadExportedModel; PGD just below
 * the certified radius breaks no certified example; the empirical lower bound is below the bound.
 * What is not tested: trained models (apps/robustness).
 */
import { exportModel, loadExportedModel, smallConvNet } from '@lipschitz/layers';
import { describeBackends, expectClose } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { certifyExportedModel, certifyModel } from '../src/certify-model';
import { empiricalLipschitzLowerBound } from '../src/empirical-lipschitz';
import { forwardOf } from './fixtures';
import { networkLipschitzUpperBound } from '@lipschitz/model-format';
import { pgdAttack } from '../src/pgd-attack';

describeBackends('certify on @lipschitz/layers models', () => {
  const inputShape: [number, number, number] = [8, 8, 1];
  let model: ReturnType<typeof smallConvNet>;
  let images: tf.Tensor;
  let labels: tf.Tensor1D;
  beforeAll(async () => {
    model = smallConvNet({ conv: 'bcop', activation: 'maxmin', inputShape, seed: 3 });
    model.freeze();
    images = tf.randomUniform([12, ...inputShape], 0, 1, 'float32', 4);
    const predicted = tf.tidy(() => tf.argMax(model.apply(images), 1));
    labels = tf.tensor1d(Int32Array.from(await predicted.data()), 'int32');
    predicted.dispose();
  });
  afterAll(() => {
    model.dispose();
    images.dispose();
    labels.dispose();
  });

  it('orthogonal layers have exact norms ≈ 1, and the bound agrees with the model', async () => {
    const bound = networkLipschitzUpperBound({ input: { shape: inputShape }, layers: await model.exportLayers(inputShape) });
    for (const layer of bound.layers) {
      if (layer.type === 'conv2d' || layer.type === 'dense') {
        expect(layer.spectralNorm, `layer ${layer.index} (${layer.type})`).toBeGreaterThan(0.99);
        expect(layer.spectralNorm, `layer ${layer.index} (${layer.type})`).toBeLessThan(1.01);
      }
    }
    const own = await model.lipschitzUpperBound(inputShape);
    expect(Math.abs(bound.assumedFloat32Bound - own) / own).toBeLessThan(1e-3);
  });

  it('certifyModel equals certifyExportedModel on the exported file; the private runner matches loadExportedModel', async () => {
    const exported = await exportModel(model, { inputShape });
    const live = await certifyModel(model, images, labels, { epsilons: [0.01, 0.05], inputShape });
    const file = await certifyExportedModel(exported, images, labels, { epsilons: [0.01, 0.05] });
    expect(file.clean).toBe(1);
    expect(file.certified).toEqual(live.certified);
    expect(file.lipschitzUpperBound).toBeLessThanOrEqual(live.lipschitzUpperBound);
    const official = loadExportedModel(exported);
    const ours = forwardOf(exported);
    const [a, b] = tf.tidy(() => [official.predict(images), ours.predict(images)]);
    await expectClose(b, a, { atol: 1e-5, rtol: 1e-5 });
    tf.dispose([a, b]);
    official.dispose();
    ours.dispose();
  });

  it('PGD just below the certified radius breaks no certified example; the lower bound is below the bound', async () => {
    const report = await certifyModel(model, images, labels, { epsilons: [], inputShape });
    const { radii } = report.examples;
    const top = Array.from(radii.keys()).sort((p, q) => radii[q] - radii[p]).slice(0, 2);
    const predict = (x: tf.Tensor) => model.apply(x);
    for (const i of top) {
      const [x, y] = [tf.slice(images, i, 1), tf.slice(labels, i, 1)];
      const r = await pgdAttack(predict, x, y, { epsilon: 0.999 * radii[i], steps: 25, stepSize: radii[i] / 5, restarts: 1, seed: i, certifiedRadii: [radii[i]] });
      expect(r.broken[0], `example ${i}, radius ${radii[i]}`).toBe(0);
      expect(r.brokenCertified).toBe(0);
      tf.dispose([x, y]);
    }
    const lower = await empiricalLipschitzLowerBound(predict, tf.slice(images, 0, 4), { pairs: 2, iterations: 4 });
    expect(lower.lipschitzLowerBound).toBeLessThanOrEqual(report.lipschitzUpperBound);
    expect(lower.lipschitzLowerBound).toBeGreaterThan(0);
  });
});
