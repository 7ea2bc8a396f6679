import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { complexPositiveRealInverse, positiveRealInverse } from './positive-real-inverse';

/** A batch of I + (skew-Hermitian) + (PSD) complex matrices, the kind the Cayley transform inverts. */
function positiveReal(batch: number, n: number, seed: number): { sr: tf.Tensor3D; si: tf.Tensor3D } {
  return tf.tidy(() => {
    const a = seededNormal([batch, n, n], seed);
    const b = seededNormal([batch, n, n], seed + 1);
    const v = seededNormal([batch, n, n], seed + 2, 0.5);
    const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
    // Re: I + (a − aᵀ) + vᵀv ; Im: (b + bᵀ)
    const sr = tf.add(tf.add(tf.eye(n), tf.sub(a, t(a))), tf.matMul(t(v) as tf.Tensor3D, v as tf.Tensor3D)) as tf.Tensor3D;
    return { sr, si: tf.add(b, t(b)) as tf.Tensor3D };
  });
}

describeBackends('complexPositiveRealInverse', () => {
  it('S · S⁻¹ = I for positive-real complex matrices (n = 1, 3, 8)', async () => {
    for (const n of [1, 3, 8]) {
      const { sr, si } = positiveReal(4, n, n);
      const { re, im } = complexPositiveRealInverse(sr, si);
      const pr = tf.sub(tf.matMul(sr, re), tf.matMul(si, im));
      const pi = tf.add(tf.matMul(sr, im), tf.matMul(si, re));
      await expectClose(pr, tf.tile(tf.expandDims(tf.eye(n), 0), [4, 1, 1]), { atol: 2e-5 });
      await expectClose(pi, tf.zeros([4, n, n]), { atol: 2e-5 });
    }
  });

  it('gradients w.r.t. the real and imaginary parts match finite differences', async () => {
    const { sr, si } = positiveReal(2, 3, 11);
    const wr = seededNormal([2, 3, 3], 20);
    const wi = seededNormal([2, 3, 3], 21);
    const loss = (a: tf.Tensor, b: tf.Tensor) => {
      const { re, im } = complexPositiveRealInverse(a as tf.Tensor3D, b as tf.Tensor3D);
      return tf.add(tf.sum(tf.mul(re, wr)), tf.sum(tf.mul(im, wi))) as tf.Scalar;
    };
    const [gr, gi] = tf.grads(loss)([sr, si]);
    const analyticR = await gr.data();
    const analyticI = await gi.data();
    const indices = [0, 4, 7, 10, 17];
    const fdR = await finiteDifferenceGradient((x) => loss(x, si), sr, 1e-2, indices);
    const fdI = await finiteDifferenceGradient((x) => loss(sr, x), si, 1e-2, indices);
    let nonzero = 0;
    for (const i of indices) {
      expect(Math.abs(fdR.get(i)! - analyticR[i])).toBeLessThan(0.02 * Math.abs(analyticR[i]) + 2e-3);
      expect(Math.abs(fdI.get(i)! - analyticI[i])).toBeLessThan(0.02 * Math.abs(analyticI[i]) + 2e-3);
      if (Math.abs(analyticR[i]) > 1e-2 && Math.abs(analyticI[i]) > 1e-2) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(1);
  });

  it('does not leak (forward and gradient)', async () => {
    const { sr, si } = positiveReal(2, 4, 5);
    await expectNoLeaks(() => complexPositiveRealInverse(sr, si));
    await expectNoLeaks(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(complexPositiveRealInverse(a as tf.Tensor3D, b as tf.Tensor3D).im))([sr, si]));
  });
});

describeBackends('positiveRealInverse', () => {
  it('M · M⁻¹ = I for real positive-real matrices (I + skew + VᵀV; n = 1, 2, 5, 8)', async () => {
    for (const n of [1, 2, 5, 8]) {
      const m = tf.tidy(() => {
        const a = seededNormal([3, n, n], 30 + n);
        const v = seededNormal([3, n, n], 40 + n, 0.5);
        const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
        return tf.add(tf.add(tf.eye(n), tf.sub(a, t(a))), tf.matMul(t(v) as tf.Tensor3D, v as tf.Tensor3D)) as tf.Tensor3D;
      });
      const inv = tf.tidy(() => positiveRealInverse(m));
      await expectClose(tf.matMul(m, inv), tf.tile(tf.expandDims(tf.eye(n), 0), [3, 1, 1]), { atol: 1e-4 });
      tf.dispose([m, inv]);
    }
  });
});
