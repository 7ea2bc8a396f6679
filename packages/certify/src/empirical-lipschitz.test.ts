/**
 * What is tested: on a linear map (whose Lipschitz constant is exactly σ_max of its matrix, from the
 * float64 oracle) the Jacobian lower bound converges to σ_max and no estimate exceeds it; leaks; errors.
 * What is not tested here: nonlinear nets (test/soundness.test.ts checks lower ≤ upper there).
 */
import { decodeTensor } from '@lipschitz/core';
import { describeBackends, expectNoLeaks, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { dense, model } from '../test/fixtures';
import { empiricalLipschitzLowerBound } from './empirical-lipschitz';
import { forwardOf } from '../test/fixtures';

describeBackends('empiricalLipschitzLowerBound', () => {
  const layer = dense(6, 4, 3);
  const w = decodeTensor((layer as Extract<typeof layer, { type: 'dense' }>).weight).values;
  const sigmaMax = singularValuesOracle(w, 6, 4)[0];

  it('finds σ_max of a linear map from below', async () => {
    const forward = forwardOf(model([6], [layer]));
    const x = tf.randomNormal([3, 6], 0, 1, 'float32', 1);
    const r = await empiricalLipschitzLowerBound(forward.predict, x, { iterations: 12, pairs: 4, seed: 2 });
    forward.dispose();
    expect(r.jacobianNormLowerBound).toBeGreaterThan(0.999 * sigmaMax);
    expect(r.jacobianNormLowerBound).toBeLessThanOrEqual(sigmaMax * (1 + 1e-5));
    expect(r.pairRatioLowerBound).toBeLessThanOrEqual(sigmaMax * (1 + 1e-4));
    expect(r.pairRatioLowerBound).toBeGreaterThan(0.99 * sigmaMax); // the power-iteration pair is along the top direction
  });

  it('does not leak and validates its options', async () => {
    const forward = forwardOf(model([6], [layer]));
    const x = tf.randomNormal([2, 6], 0, 1, 'float32', 1);
    await expectNoLeaks(() => empiricalLipschitzLowerBound(forward.predict, x, { iterations: 2, pairs: 2, batchSize: 1 }), 2);
    await expect(empiricalLipschitzLowerBound(forward.predict, x, { pairs: 0 })).rejects.toThrow(/^empiricalLipschitzLowerBound: pairs must be a positive integer/);
    await expect(empiricalLipschitzLowerBound(forward.predict, x, { radius: -1 })).rejects.toThrow(/^empiricalLipschitzLowerBound: radius must be a finite number > 0/);
    await expect(empiricalLipschitzLowerBound(forward.predict, x, { seed: 1.5 })).rejects.toThrow(/^empiricalLipschitzLowerBound: seed must be an integer/);
    await expect(empiricalLipschitzLowerBound(forward.predict, tf.ones([3]))).rejects.toThrow(/^empiricalLipschitzLowerBound: images must be a batch/);
    forward.dispose();
  });
});
