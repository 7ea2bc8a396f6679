import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { invertibleDownsample, invertibleUpsample, referenceToOursChannelPermutation } from './invertible-downsample';

/** The design.md order written out with loops: out[b, y, x, (i·f + j)·C + c] = in[b, y·f + i, x·f + j, c]. */
function hostDownsample(x: ArrayLike<number>, [b, h, w, c]: number[], f: number): Float64Array {
  const out = new Float64Array(x.length);
  const oh = h / f;
  const ow = w / f;
  for (let n = 0; n < b; n++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let i = 0; i < f; i++)
          for (let j = 0; j < f; j++)
            for (let ch = 0; ch < c; ch++)
              out[((n * oh + y) * ow + xx) * f * f * c + (i * f + j) * c + ch] = x[((n * h + y * f + i) * w + xx * f + j) * c + ch];
  return out;
}

describeBackends('invertibleDownsample', () => {
  it('follows the design.md channel order on a hand-made example', async () => {
    // 1 × 2 × 4 × 2 image: value = 100·row + 10·col + channel.
    const values: number[] = [];
    for (let r = 0; r < 2; r++) for (let c = 0; c < 4; c++) for (let ch = 0; ch < 2; ch++) values.push(100 * r + 10 * c + ch);
    const y = invertibleDownsample(tf.tensor4d(values, [1, 2, 4, 2]), 2);
    expect(y.shape).toEqual([1, 1, 2, 8]);
    // Output pixel x = 0 gathers (i, j) ∈ {(0,0), (0,1), (1,0), (1,1)} at columns 0–1, channel fastest.
    await expectClose(y, [0, 1, 10, 11, 100, 101, 110, 111, 20, 21, 30, 31, 120, 121, 130, 131], { atol: 0 });
  });

  for (const [shape, f] of [
    [[2, 6, 4, 3], 2],
    [[1, 6, 9, 2], 3],
    [[3, 4, 4, 1], 1],
    [[1, 8, 8, 1], 4],
  ] as [number[], number][]) {
    it(`matches the index formula and inverts exactly, shape [${shape}] f=${f}`, async () => {
      const x = seededNormal(shape, 7) as tf.Tensor4D;
      const y = invertibleDownsample(x, f);
      expect(y.shape).toEqual([shape[0], shape[1] / f, shape[2] / f, shape[3] * f * f]);
      await expectClose(y, hostDownsample(await x.data(), shape, f), { atol: 0 });
      await expectClose(invertibleUpsample(y, f), x, { atol: 0 });
    });
  }

  it('is differentiable: the gradient of <down(x), g> is up(g)', async () => {
    const x = seededNormal([2, 4, 6, 3], 1) as tf.Tensor4D;
    const g = seededNormal([2, 2, 3, 12], 2) as tf.Tensor4D;
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(invertibleDownsample(t as tf.Tensor4D, 2), g)))(x);
    await expectClose(dx, invertibleUpsample(g, 2), { atol: 0 });
  });

  it('matches the reference pixel unshuffle after the channel permutation', async () => {
    // Reference order (c, i, j): out[(c·f + i)·f + j] = in[y·f + i, x·f + j, c].
    const [h, w, c, f] = [4, 6, 3, 2];
    const x = seededNormal([1, h, w, c], 3) as tf.Tensor4D;
    const xs = await x.data();
    const reference = new Float32Array(x.size);
    for (let y = 0; y < h / f; y++)
      for (let xx = 0; xx < w / f; xx++)
        for (let ch = 0; ch < c; ch++)
          for (let i = 0; i < f; i++)
            for (let j = 0; j < f; j++) reference[(y * (w / f) + xx) * c * f * f + (ch * f + i) * f + j] = xs[((y * f + i) * w + xx * f + j) * c + ch];
    const perm = referenceToOursChannelPermutation(c, f);
    const converted = tf.gather(tf.tensor4d(reference, [1, h / f, w / f, c * f * f]), tf.tensor1d(perm, 'int32'), 3);
    await expectClose(converted, invertibleDownsample(x, f), { atol: 0 });
  });

  it('does not leak', async () => {
    const x = seededNormal([1, 4, 4, 2], 1) as tf.Tensor4D;
    await expectNoLeaks(() => invertibleDownsample(x, 2));
    const z = seededNormal([1, 2, 2, 8], 2) as tf.Tensor4D;
    await expectNoLeaks(() => invertibleUpsample(z, 2));
  });

  it('validates its arguments', () => {
    const x = tf.zeros([1, 6, 4, 4]) as tf.Tensor4D;
    expect(() => invertibleDownsample(x, 4)).toThrow(/^invertibleDownsample: height 6 and width 4 must be divisible by factor 4/);
    expect(() => invertibleDownsample(x, 0)).toThrow(/^invertibleDownsample: factor must be a positive integer, got 0/);
    expect(() => invertibleDownsample(tf.zeros([6, 4]) as unknown as tf.Tensor4D, 2)).toThrow(/^invertibleDownsample: x \(NHWC\) must have rank 4/);
    expect(() => invertibleUpsample(tf.zeros([1, 2, 2, 6]) as tf.Tensor4D, 2)).toThrow(/^invertibleUpsample: the channel count 6 must be divisible by factor² = 4/);
    try {
      invertibleUpsample(x, 1.5);
      expect.fail('did not throw');
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('referenceToOursChannelPermutation', () => {
  it('maps (i, j, c) positions to the reference (c, i, j) channels', () => {
    expect(Array.from(referenceToOursChannelPermutation(2, 2))).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    expect(Array.from(referenceToOursChannelPermutation(1, 3))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const perm = referenceToOursChannelPermutation(5, 3);
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
  });
  it('rejects bad sizes', () => {
    expect(() => referenceToOursChannelPermutation(0, 2)).toThrow(/^referenceToOursChannelPermutation: channels must be a positive integer, got 0/);
  });
});
