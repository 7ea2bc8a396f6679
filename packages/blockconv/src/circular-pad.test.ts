import { LipschitzError } from '@lipschitz/core';
import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { hostCircularConv } from '../test/helpers';
import { circularConv2d, circularPad, circularPadding } from './circular-pad';

describe('circularPadding', () => {
  it('wraps k//2 before and k − 1 − k//2 after (reference §1.4)', () => {
    expect(circularPadding(1)).toEqual({ before: 0, after: 0 });
    expect(circularPadding(2)).toEqual({ before: 1, after: 0 });
    expect(circularPadding(3)).toEqual({ before: 1, after: 1 });
    expect(circularPadding(4)).toEqual({ before: 2, after: 1 });
    expect(circularPadding(5)).toEqual({ before: 2, after: 2 });
  });
  it('rejects a kernel size of 0', () => {
    expect(() => circularPadding(0)).toThrow(/^circularPadding: kernelSize must be a positive integer, got 0/);
  });
});

describeBackends('circularPad', () => {
  // 3×3 single-channel image with values r*3 + c.
  const image = () => tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]);

  it('pads an odd kernel with one row/column from each opposite side (hand-made)', async () => {
    const padded = circularPad(image(), 3);
    expect(padded.shape).toEqual([1, 5, 5, 1]);
    // rows: [2, 0, 1, 2, 0]; columns: [2, 0, 1, 2, 0]
    // biome-ignore format: a 5×5 grid
    await expectClose(padded, [
      8, 6, 7, 8, 6,
      2, 0, 1, 2, 0,
      5, 3, 4, 5, 3,
      8, 6, 7, 8, 6,
      2, 0, 1, 2, 0,
    ], { atol: 0 });
  });

  it('pads an even kernel with k/2 from the end before and k/2 − 1 after (hand-made)', async () => {
    const padded = circularPad(image(), 2);
    expect(padded.shape).toEqual([1, 4, 4, 1]);
    // rows: [2, 0, 1, 2]
    // biome-ignore format: a 4×4 grid
    await expectClose(padded, [
      8, 6, 7, 8,
      2, 0, 1, 2,
      5, 3, 4, 5,
      8, 6, 7, 8,
    ], { atol: 0 });
    const four = circularPad(image(), [4, 1]);
    expect(four.shape).toEqual([1, 6, 3, 1]);
    // rows: [1, 2, 0, 1, 2, 0]
    await expectClose(four, [3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2], { atol: 0 });
  });

  it('wraps more than once when the kernel is larger than the input', async () => {
    const x = tf.tensor4d([0, 1], [1, 2, 1, 1]);
    const padded = circularPad(x, [7, 1]); // 3 before, 3 after: indices −3..4 mod 2
    expect(padded.shape).toEqual([1, 8, 1, 1]);
    await expectClose(padded, [1, 0, 1, 0, 1, 0, 1, 0], { atol: 0 });
  });

  it('is differentiable: the gradient folds the wrapped rows back (adjoint of the padding)', async () => {
    const x = image();
    const g = tf.grad((t: tf.Tensor) => tf.sum(circularPad(t as tf.Tensor4D, 3)))(x);
    // Each pixel appears once per copy: corners 4×, edges 2×, center 1× for a 3×3 image and k = 3.
    await expectClose(g, [4, 2, 4, 2, 1, 2, 4, 2, 4], { atol: 0 });
    const wrapped = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(circularPad(t as tf.Tensor4D, [7, 1]), tf.reshape(tf.range(0, 8), [1, 8, 1, 1]))))(
      tf.tensor4d([0, 1], [1, 2, 1, 1]),
    );
    // padded index i holds x[(i − 3) mod 2]: x[1] at i = 0, 2, 4, 6 and x[0] at i = 1, 3, 5, 7.
    await expectClose(wrapped, [1 + 3 + 5 + 7, 0 + 2 + 4 + 6], { atol: 0 });
  });

  it('its gradient is the exact adjoint (host oracle) for every kernel size up to the input size, and matches finite differences', async () => {
    const shape = [2, 3, 4, 2];
    const x = seededNormal(shape, 21) as tf.Tensor4D;
    const [n, h, w, c] = shape;
    for (const [kh, kw] of [[1, 2], [2, 2], [3, 3], [4, 5], [2, 4], [4, 1], [3, 2]]) {
      const ph = h + kh - 1;
      const pw = w + kw - 1;
      const g = seededNormal([n, ph, pw, c], kh * 10 + kw);
      const gv = await g.data();
      // dx[b, y, x, ch] = Σ over padded positions (p, q) that hold x[b, y, x, ch] of g[b, p, q, ch].
      const expected = new Float64Array(n * h * w * c);
      for (let b = 0; b < n; b++)
        for (let p = 0; p < ph; p++)
          for (let q = 0; q < pw; q++) {
            const yy = (((p - Math.floor(kh / 2)) % h) + h) % h;
            const xx = (((q - Math.floor(kw / 2)) % w) + w) % w;
            for (let ch = 0; ch < c; ch++) expected[((b * h + yy) * w + xx) * c + ch] += gv[((b * ph + p) * pw + q) * c + ch];
          }
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(circularPad(t as tf.Tensor4D, [kh, kw]), g)))(x);
      await expectClose(dx, expected, { atol: 1e-5 });
    }
    const g = seededNormal([1, 4, 5, 1], 31);
    const f = (t: tf.Tensor) => tf.sum(tf.mul(circularPad(t as tf.Tensor4D, 3), g)) as tf.Scalar;
    const x1 = seededNormal([1, 2, 3, 1], 32);
    const analytic = await tf.grad(f)(x1).data();
    for (const [i, v] of await finiteDifferenceGradient(f, x1, 1e-2)) expect(Math.abs(analytic[i] - v), `entry ${i}`).toBeLessThan(1e-3);
  });

  it('does not leak', async () => {
    const x = image();
    await expectNoLeaks(() => circularPad(x, 3));
    await expectNoLeaks(() => circularPad(x, [7, 1]));
    await expectNoLeaks(() => circularPad(x, 1));
  });

  it('validates its arguments', () => {
    const check = (f: () => unknown, re: RegExp) => {
      try {
        f();
        expect.fail('did not throw');
      } catch (e) {
        expect(LipschitzError.isInstance(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    check(() => circularPad(tf.zeros([3, 3, 1]) as unknown as tf.Tensor4D, 3), /^circularPad: x \(NHWC\) must have rank 4, got rank 3/);
    check(() => circularPad(image(), 0), /^circularPad: kernelSize must be a positive integer, got 0/);
    check(() => circularPad(image(), [2, 1.5] as unknown as [number, number]), /^circularPad: kernelSize\[1\] must be a positive integer, got 1.5/);
  });
});

describeBackends('circularConv2d', () => {
  for (const [kh, kw, h, w] of [
    [1, 1, 3, 3],
    [2, 2, 4, 5],
    [3, 3, 5, 4],
    [4, 2, 4, 4],
    [5, 5, 3, 3],
  ]) {
    it(`matches the float64 definition, kernel ${kh}×${kw} on ${h}×${w}`, async () => {
      const xShape = [2, h, w, 3];
      const kShape = [kh, kw, 3, 2];
      const x = seededNormal(xShape, 1) as tf.Tensor4D;
      const k = seededNormal(kShape, 2) as tf.Tensor4D;
      const bias = tf.tensor1d([0.5, -1]);
      const y = circularConv2d(x, k, bias);
      expect(y.shape).toEqual([2, h, w, 2]);
      const expected = hostCircularConv(await x.data(), xShape, await k.data(), kShape);
      for (let i = 0; i < expected.length; i++) expected[i] += i % 2 === 0 ? 0.5 : -1;
      await expectClose(y, expected, { atol: 1e-4 });
    });
  }

  it('its hand-written gradients (x, kernel, bias) equal autodiff of the padding + valid convolution', async () => {
    for (const [kh, kw, h, w] of [[3, 3, 4, 5], [2, 2, 3, 3], [4, 1, 4, 2], [1, 2, 2, 3], [5, 4, 5, 4]]) {
      const x = seededNormal([2, h, w, 3], kh + 10 * kw) as tf.Tensor4D;
      const k = seededNormal([kh, kw, 3, 2], kh * kw + 5) as tf.Tensor4D;
      const b = seededNormal([2], 7) as tf.Tensor1D;
      const g = seededNormal([2, h, w, 2], 8);
      const loss = (f: (a: tf.Tensor4D, c: tf.Tensor4D, d: tf.Tensor1D) => tf.Tensor) => (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor4D, c as tf.Tensor4D, d as tf.Tensor1D), g));
      const ours = tf.grads(loss((a, c, d) => circularConv2d(a, c, d)))([x, k, b]);
      const composite = tf.grads(loss((a, c, d) => tf.add(tf.conv2d(circularPad(a, [kh, kw]), c, 1, 'valid'), d)))([x, k, b]);
      await expectClose(circularConv2d(x, k, b), tf.add(tf.conv2d(circularPad(x, [kh, kw]), k, 1, 'valid'), b), { atol: 1e-5 });
      for (let i = 0; i < 3; i++) await expectClose(ours[i], composite[i], { atol: 1e-4 });
      const noBias = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(circularConv2d(a as tf.Tensor4D, c as tf.Tensor4D), g)))([x, k]);
      await expectClose(noBias[0], composite[0], { atol: 1e-4 });
      await expectClose(noBias[1], composite[1], { atol: 1e-4 });
    }
  });

  it('has gradients for x, kernel and bias consistent with the adjoint identity', async () => {
    const x = seededNormal([1, 4, 4, 2], 3) as tf.Tensor4D;
    const k = seededNormal([2, 2, 2, 3], 4) as tf.Tensor4D;
    const g = seededNormal([1, 4, 4, 3], 5);
    // f(x) = <conv(x), g> is linear in x, so ∂f/∂x · x = f(x); same for the kernel.
    const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(circularConv2d(a as tf.Tensor4D, b as tf.Tensor4D), g)))([x, k]);
    const f = (await tf.sum(tf.mul(circularConv2d(x, k), g)).data())[0];
    expect((await tf.sum(tf.mul(dx, x)).data())[0]).toBeCloseTo(f, 3);
    expect((await tf.sum(tf.mul(dk, k)).data())[0]).toBeCloseTo(f, 3);
  });

  it('with kernelGradient: false it has the same value and input gradient, and runs no filter gradient', async () => {
    for (const [kh, kw, h, w] of [[3, 3, 4, 5], [2, 2, 3, 3], [1, 1, 2, 2]]) {
      const x = seededNormal([2, h, w, 3], kh + 3) as tf.Tensor4D;
      const k = seededNormal([kh, kw, 3, 2], kw + 4) as tf.Tensor4D;
      const b = seededNormal([2], 5) as tf.Tensor1D;
      const g = seededNormal([2, h, w, 2], 6);
      const input = (options?: { kernelGradient: boolean }) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(circularConv2d(a as tf.Tensor4D, k, b, options), g)));
      await expectClose(circularConv2d(x, k, b, { kernelGradient: false }), circularConv2d(x, k, b), { atol: 0 });
      await expectClose(input({ kernelGradient: false })(x), input()(x), { atol: 1e-6 });
      const kernelsRun = async (options?: { kernelGradient: boolean }) => (await tf.profile(() => input(options)(x))).kernelNames;
      expect(await kernelsRun()).toContain('Conv2DBackpropFilter');
      expect(await kernelsRun({ kernelGradient: false })).not.toContain('Conv2DBackpropFilter');
    }
  });

  it('does not leak', async () => {
    const x = seededNormal([1, 4, 4, 2], 3) as tf.Tensor4D;
    const k = seededNormal([3, 3, 2, 3], 4) as tf.Tensor4D;
    const b = tf.zeros([3]) as tf.Tensor1D;
    await expectNoLeaks(() => circularConv2d(x, k, b));
    await expectNoLeaks(() => tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(circularConv2d(a as tf.Tensor4D, c as tf.Tensor4D, d as tf.Tensor1D)))([x, k, b]));
  });

  it('validates shapes', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => circularConv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(
      /^circularConv2d: x has 2 channels but kernel \[3, 3, 3, 1\] expects 3 input channels/,
    );
    expect(() => circularConv2d(x, tf.zeros([3, 3, 2]) as unknown as tf.Tensor4D)).toThrow(/^circularConv2d: kernel \(HWIO\) must have rank 4/);
    expect(() => circularConv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, tf.zeros([2]) as tf.Tensor1D)).toThrow(
      /^circularConv2d: bias must have shape \[1\], got \[2\]/,
    );
  });
});
