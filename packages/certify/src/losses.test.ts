/**
 * What is tested: multiMarginLoss, crossEntropyLoss, krLoss, hkrLoss against hand computations,
 * their gradients against central finite differences, leaks, validator errors.
 * What is not tested: training with them (that is @lipschitz/train's job).
 */
import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectNoLeaks, finiteDifferenceGradient } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { crossEntropyLoss } from './cross-entropy-loss';
import { hkrLoss } from './hkr-loss';
import { krLoss } from './kr-loss';
import { multiMarginLoss } from './multi-margin-loss';

async function value(t: tf.Tensor): Promise<number> {
  const v = (await t.data())[0];
  t.dispose();
  return v;
}

async function expectGradientMatchesFiniteDifference(loss: (z: tf.Tensor) => tf.Scalar, z: tf.Tensor): Promise<void> {
  const g = tf.grad(loss)(z);
  const analytic = await g.data();
  g.dispose();
  const numeric = await finiteDifferenceGradient(loss, z, 1e-2);
  for (const [i, d] of numeric) expect(analytic[i]).toBeCloseTo(d, 3);
}

describeBackends('certify losses', () => {
  const labels = () => tf.tensor1d([1, 0], 'int32');

  it('multiMarginLoss matches the hand computation of the reference formula', async () => {
    const z = tf.tensor2d([[1.8, 2, 0.5], [0.5, 1, 0]]);
    const m = Math.SQRT2 * 0.5 * 1.0;
    // row 0 (y = 1): max(0, m − 2 + 1.8) + max(0, m − 2 + 0.5); row 1 (y = 0): (m − 0.5 + 1) + (m − 0.5 + 0)
    const row0 = Math.max(0, m - 2 + 1.8) + Math.max(0, m - 2 + 0.5);
    const row1 = Math.max(0, m - 0.5 + 1) + Math.max(0, m - 0.5 + 0);
    expect(await value(multiMarginLoss(z, labels(), { epsilon: 0.5 }))).toBeCloseTo((row0 / 3 + row1 / 3) / 2, 6);
    // L scales the margin: √2 · 0.25 · 2 = the same margin as ε = 0.5, L = 1
    expect(await value(multiMarginLoss(z, labels(), { epsilon: 0.25, lipschitz: 2 }))).toBeCloseTo((row0 / 3 + row1 / 3) / 2, 6);
    // MNIST setting: margin 2.1213 for ε = 1.5 — a logit gap of exactly that gives zero loss, slightly less does not
    const gap = Math.SQRT2 * 1.5;
    expect(await value(multiMarginLoss(tf.tensor2d([[gap + 1e-3, 0]]), tf.tensor1d([0], 'int32'), { epsilon: 1.5 }))).toBe(0);
    expect(await value(multiMarginLoss(tf.tensor2d([[gap - 0.1, 0]]), tf.tensor1d([0], 'int32'), { epsilon: 1.5 }))).toBeCloseTo(0.1 / 2, 5);
  });

  it('multiMarginLoss gradient matches finite differences', async () => {
    const z = tf.tensor2d([[1.8, 2, 0.5], [0.5, 1, 0.2]]);
    await expectGradientMatchesFiniteDifference((x) => multiMarginLoss(x, labels(), { epsilon: 0.5 }), z);
  });

  it('crossEntropyLoss matches log-sum-exp minus the true logit', async () => {
    const z = tf.tensor2d([[1, 2, 3], [0, 0, 0]]);
    const expected = (Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3 + Math.log(3)) / 2;
    expect(await value(crossEntropyLoss(z, tf.tensor1d([2, 1], 'int32')))).toBeCloseTo(expected, 5);
    await expectGradientMatchesFiniteDifference((x) => crossEntropyLoss(x, tf.tensor1d([2, 1], 'int32')), z);
  });

  it('krLoss and hkrLoss match the deel-lip formulas by hand', async () => {
    const z = tf.tensor2d([[1, 0], [0, 2], [3, 1]]);
    const y = tf.tensor1d([0, 1, 0], 'int32');
    // class 0: mean over {0, 2} of z0 = 2, over {1} = 0 → 2; class 1: mean over {1} of z1 = 2, over {0, 2} = 0.5 → 1.5
    const kr = (2 + 1.5) / 2;
    expect(await value(krLoss(z, y))).toBeCloseTo(-kr, 5);
    // hinge, m = 1: row 0: (relu(0.5 − 1) + relu(0.5 + 0)) / 2; row 1: (relu(0.5 − 2) + relu(0.5 + 0)) / 2; row 2: (0 + relu(0.5 + 1)) / 2
    const hinge = (0.5 / 2 + 0.5 / 2 + 1.5 / 2) / 3;
    expect(await value(hkrLoss(z, y))).toBeCloseTo(-kr + 10 * hinge, 5);
    expect(await value(hkrLoss(z, y, { alpha: 0 }))).toBeCloseTo(-kr, 5);
    // m = 4: row 0: (relu(2 − 1) + relu(2 + 0)) / 2; row 1: (relu(2 − 2) + relu(2 + 0)) / 2; row 2: (relu(2 − 3) + relu(2 + 1)) / 2
    expect(await value(hkrLoss(z, y, { alpha: 2, minMargin: 4 }))).toBeCloseTo(-kr + (2 * ((1 + 2) / 2 + (0 + 2) / 2 + (0 + 3) / 2)) / 3, 5);
  });

  it('krLoss and hkrLoss gradients match finite differences', async () => {
    const z = tf.tensor2d([[1, 0.1], [0.2, 2], [3, 1.3]]);
    const y = () => tf.tensor1d([0, 1, 0], 'int32');
    await expectGradientMatchesFiniteDifference((x) => krLoss(x, y()), z);
    await expectGradientMatchesFiniteDifference((x) => hkrLoss(x, y(), { alpha: 3 }), z);
  });

  it('losses do not leak', async () => {
    const z = tf.tensor2d([[1.8, 2, 0.5], [0.5, 1, 0]]);
    const y = labels();
    await expectNoLeaks(() => multiMarginLoss(z, y, { epsilon: 0.5 }));
    await expectNoLeaks(() => crossEntropyLoss(z, y));
    await expectNoLeaks(() => krLoss(z, y));
    await expectNoLeaks(() => hkrLoss(z, y));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => hkrLoss(x, y))(z));
  });

  it('validators reject bad arguments with LipschitzError', () => {
    const z = tf.tensor2d([[1, 2]]);
    const y = tf.tensor1d([0], 'int32');
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(LipschitzError.isInstance(e)).toBe(true);
        return (e as LipschitzError).code;
      }
      return 'no error';
    };
    expect(() => multiMarginLoss(z, y, { epsilon: -1 })).toThrow(/^multiMarginLoss: epsilon must be >= 0/);
    expect(() => multiMarginLoss(z, y, { epsilon: 1, lipschitz: 0 })).toThrow(/^multiMarginLoss: lipschitz must be a finite number > 0/);
    expect(() => multiMarginLoss(z, y, { epsilon: 1, numClasses: 3 })).toThrow(/^multiMarginLoss: numClasses is 3 but logits has 2 columns/);
    expect(() => multiMarginLoss(tf.tensor1d([1, 2]), y, { epsilon: 1 })).toThrow(/^multiMarginLoss: logits must have rank 2/);
    expect(() => crossEntropyLoss(z, tf.tensor1d([0]))).toThrow(/^crossEntropyLoss: labels must be an int32 tensor/);
    expect(() => krLoss(z, tf.tensor1d([0, 1], 'int32'))).toThrow(/^krLoss: labels has 2 entries but logits has 1 rows/);
    expect(() => hkrLoss(z, y, { alpha: -1 })).toThrow(/^hkrLoss: alpha must be >= 0/);
    expect(() => hkrLoss(z, y, { minMargin: 0 })).toThrow(/^hkrLoss: minMargin must be a finite number > 0/);
    expect(() => hkrLoss(tf.tensor2d([[1], [2]]), tf.tensor1d([0, 0], 'int32'))).toThrow(/^hkrLoss: logits must have at least 2 classes/);
    expect(code(() => krLoss(z, tf.tensor1d([0, 1], 'int32')))).toBe('SHAPE_MISMATCH');
    expect(code(() => hkrLoss(z, y, { alpha: -1 }))).toBe('INVALID_ARGUMENT');
  });
});
