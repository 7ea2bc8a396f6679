import { circularConv2d } from './circular-pad';
import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { circularConv2dAdjoint } from './circular-conv2d-adjoint';

/** The reference OSSN's "transpose": flipped, in/out-transposed kernel with the FORWARD padding. */
function referenceFlippedConv(y: tf.Tensor4D, kernel: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => circularConv2d(y, tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D));
}

async function inner(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const av = await a.data();
  const bv = await b.data();
  let s = 0;
  for (let i = 0; i < av.length; i++) s += av[i] * bv[i];
  return s;
}

describeBackends('circularConv2dAdjoint', () => {
  for (const k of [1, 2, 3, 4]) {
    it(`satisfies <Kx, y> = <x, Kᵀy> for k = ${k} on 8×8 (3 → 5 channels)`, async () => {
      const x = seededNormal([2, 8, 8, 3], 1) as tf.Tensor4D;
      const y = seededNormal([2, 8, 8, 5], 2) as tf.Tensor4D;
      const kernel = seededNormal([k, k, 3, 5], 3 + k) as tf.Tensor4D;
      const kx = circularConv2d(x, kernel);
      const kty = circularConv2dAdjoint(y, kernel);
      expect(kty.shape).toEqual([2, 8, 8, 3]);
      const lhs = await inner(kx, y);
      const rhs = await inner(x, kty);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      // The reference's flipped-kernel conv is the adjoint only for odd k (reference-bcop.md §4).
      const wrong = await inner(x, referenceFlippedConv(y, kernel));
      if (k % 2 === 0) expect(Math.abs(wrong - lhs)).toBeGreaterThan(0.05 * Math.abs(lhs));
      else expect(Math.abs(wrong - lhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
    });
  }

  it('handles non-square maps and kernels equal to the map size', async () => {
    const x = seededNormal([1, 3, 5, 2], 7) as tf.Tensor4D;
    const y = seededNormal([1, 3, 5, 2], 8) as tf.Tensor4D;
    const kernel = seededNormal([3, 4, 2, 2], 9) as tf.Tensor4D;
    const lhs = await inner(circularConv2d(x, kernel), y);
    const rhs = await inner(x, circularConv2dAdjoint(y, kernel));
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
  });

  it('does not leak', async () => {
    const y = seededNormal([1, 6, 6, 4], 1) as tf.Tensor4D;
    const kernel = seededNormal([2, 2, 3, 4], 2) as tf.Tensor4D;
    await expectNoLeaks(() => circularConv2dAdjoint(y, kernel));
  });

  it('rejects mismatched shapes with a clear error', () => {
    const y = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    expect(() => circularConv2dAdjoint(y, tf.zeros([2, 2, 3, 4]) as tf.Tensor4D)).toThrow(/^circularConv2dAdjoint: y has 3 channels/);
    expect(() => circularConv2dAdjoint(y, tf.zeros([5, 5, 2, 3]) as tf.Tensor4D)).toThrow(/must not be larger than the map/);
    try {
      circularConv2dAdjoint(tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D, tf.zeros([2, 2, 3, 3]) as tf.Tensor4D);
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('SHAPE_MISMATCH');
    }
  });
});
