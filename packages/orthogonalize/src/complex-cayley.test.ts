import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { cayley } from './cayley';
import { complexCayley } from './complex-cayley';

describeBackends('complexCayley', () => {
  it('has orthonormal complex columns: QᴴQ = I (square and tall)', async () => {
    for (const [nb, ns] of [
      [4, 4],
      [7, 3],
    ]) {
      const zr = seededNormal([2, nb, ns], 11) as tf.Tensor3D;
      const zi = seededNormal([2, nb, ns], 12) as tf.Tensor3D;
      const { re, im } = complexCayley(zr, zi);
      expect(re.shape).toEqual([2, nb, ns]);
      // QᴴQ = (reᵀre + imᵀim) + i(reᵀim − imᵀre)
      const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;
      const gramRe = tf.add(tf.matMul(t(re), re), tf.matMul(t(im), im));
      const gramIm = tf.sub(tf.matMul(t(re), im), tf.matMul(t(im), re));
      await expectClose(gramRe, tf.tile(tf.expandDims(tf.eye(ns), 0), [2, 1, 1]), { atol: 2e-5 });
      await expectClose(gramIm, tf.zeros([2, ns, ns]), { atol: 2e-5 });
      tf.dispose([zr, zi, re, im, gramRe, gramIm]);
    }
  });

  it('documents the skew convention: for a real Z = [U; V], complexCayley(Z, 0) = cayley([2U; V])', async () => {
    const zr = seededNormal([1, 6, 4], 21) as tf.Tensor3D;
    const zero = tf.zeros([1, 6, 4]) as tf.Tensor3D;
    const { re, im } = complexCayley(zr, zero);
    const doubledTop = tf.concat([tf.mul(tf.slice(zr, [0, 0, 0], [1, 4, 4]), 2), tf.slice(zr, [0, 4, 0], [1, 2, 4])], 1);
    await expectClose(re, cayley(doubledTop), { atol: 2e-5 });
    await expectClose(im, tf.zeros([1, 6, 4]), { atol: 1e-6 });
    await expectNoLeaks(() => complexCayley(zr, zero));
    tf.dispose([zr, zero, re, im, doubledTop]);
  });

  it('refuses wide or mismatched inputs', () => {
    const wide = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    const other = tf.zeros([1, 3, 2]) as tf.Tensor3D;
    expect(() => complexCayley(wide, wide)).toThrow(LipschitzError);
    expect(() => complexCayley(other, wide)).toThrow(/^complexCayley: zr and zi must have the same shape/);
    tf.dispose([wide, other]);
  });
});
