import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { createOptimizer } from './optimizer';

/** One optimizer step on f(θ) = ½·Σ θ² (gradient θ), read back. */
async function oneStep(optimizer: tf.Optimizer, theta: number[], steps = 1): Promise<Float32Array> {
  const initial = tf.tensor1d(theta);
  const v = tf.variable(initial);
  initial.dispose();
  for (let i = 0; i < steps; i++) optimizer.minimize(() => tf.mul(0.5, tf.sum(tf.square(v))) as tf.Scalar, false, [v]);
  const out = (await v.data()) as Float32Array;
  v.dispose();
  return out;
}

describeBackends('createOptimizer', () => {
  it('adam follows PyTorch: θ − lr·m̂/(√v̂ + ε) with ε = 1e-8', async () => {
    const optimizer = createOptimizer({ kind: 'adam', learningRate: 0.1 });
    expect(optimizer.getClassName()).toBe('Adam');
    expect(optimizer.getConfig()).toEqual({ learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    // Two steps by hand (float64): g = θ.
    const theta = [0.5, -2e-4];
    const expected = theta.map((t0) => {
      let t = t0;
      let m = 0;
      let v = 0;
      for (let s = 1; s <= 2; s++) {
        m = 0.9 * m + 0.1 * t;
        v = 0.999 * v + 0.001 * t * t;
        t -= (0.1 * (m / (1 - 0.9 ** s))) / (Math.sqrt(v / (1 - 0.999 ** s)) + 1e-8);
      }
      return t;
    });
    const got = await oneStep(optimizer, theta, 2);
    for (let i = 0; i < theta.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected[i])));
    optimizer.dispose();
  });

  it('rmsprop uses α = 0.99 and matches PyTorch when v ≫ ε²', async () => {
    const optimizer = createOptimizer({ kind: 'rmsprop', learningRate: 0.01 });
    expect(optimizer.getClassName()).toBe('RMSProp');
    const config = optimizer.getConfig();
    expect(config.decay).toBe(0.99);
    expect(config.momentum).toBe(0);
    const theta = [0.5, -3];
    const expected = theta.map((t) => {
      const v = 0.01 * t * t;
      return t - (0.01 * t) / (Math.sqrt(v) + 1e-8);
    });
    const got = await oneStep(optimizer, theta);
    for (let i = 0; i < theta.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-6);
    optimizer.dispose();
  });

  it('takes a new learning rate between steps', async () => {
    const optimizer = createOptimizer({ kind: 'rmsprop', learningRate: 0.01 });
    optimizer.learningRate = 0.02;
    const got = await oneStep(optimizer, [1]);
    // First RMSprop step moves by lr·g/√(0.01 g²) = 10·lr.
    expect(Math.abs(got[0] - (1 - 0.2))).toBeLessThan(1e-5);
    optimizer.dispose();
  });

  it('leaks nothing once disposed', async () => {
    await expectNoLeaks(async () => {
      const optimizer = createOptimizer({ kind: 'adam' });
      await oneStep(optimizer, [1, 2]);
      optimizer.dispose();
    });
  });

  it('rejects bad specs', () => {
    expect(() => createOptimizer({ kind: 'sgd' } as never)).toThrow(/^createOptimizer: kind must be one of "adam", "rmsprop", got "sgd"/);
    expect(() => createOptimizer(undefined as never)).toThrow(/^createOptimizer: spec must be an object/);
    expect(() => createOptimizer({ kind: 'adam', learningRate: -1 })).toThrow(/^createOptimizer: learningRate must be a finite number > 0/);
    expect(() => createOptimizer({ kind: 'adam', beta1: 1 })).toThrow(/^createOptimizer: beta1 must be in \[0, 1\)/);
    expect(() => createOptimizer({ kind: 'rmsprop', alpha: 1.2 })).toThrow(/^createOptimizer: alpha must be in \[0, 1\)/);
    expect(() => createOptimizer({ kind: 'rmsprop', epsilon: 0 })).toThrow(/^createOptimizer: epsilon must be a finite number > 0/);
  });
});
