import { denseMatrixOf, describeBackends, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { convSingularValues, convSpectralNorm } from './conv-spectrum';

/** Circular padding as in design.md: k//2 before, k−1−k//2 after, along H then W (NHWC). */
function circularPad(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const wrap = (t: tf.Tensor4D, axis: 1 | 2, size: number, k: number): tf.Tensor4D => {
    const before = Math.floor(k / 2);
    const after = k - 1 - before;
    const parts: tf.Tensor4D[] = [];
    const begin = [0, 0, 0, 0];
    const sizeOf = [-1, -1, -1, -1];
    if (before > 0) {
      begin[axis] = size - before;
      sizeOf[axis] = before;
      parts.push(tf.slice(t, [...begin], [...sizeOf]));
    }
    parts.push(t);
    if (after > 0) {
      begin[axis] = 0;
      sizeOf[axis] = after;
      parts.push(tf.slice(t, [...begin], [...sizeOf]));
    }
    return parts.length === 1 ? t : tf.concat(parts, axis);
  };
  return wrap(wrap(x, 1, h, kh), 2, w, kw);
}

function lcgKernel(seed: number, size: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

const cases: { kh: number; kw: number; cin: number; cout: number; h: number; w: number }[] = [
  { kh: 1, kw: 1, cin: 2, cout: 3, h: 3, w: 4 },
  { kh: 2, kw: 2, cin: 3, cout: 2, h: 4, w: 3 },
  { kh: 3, kw: 3, cin: 2, cout: 2, h: 5, w: 4 },
  { kh: 4, kw: 4, cin: 2, cout: 3, h: 4, w: 5 },
  { kh: 3, kw: 2, cin: 1, cout: 2, h: 4, w: 4 },
];

describeBackends('convSingularValues vs the dense impulse-response oracle', () => {
  for (const { kh, kw, cin, cout, h, w } of cases) {
    it(`k=${kh}×${kw}, ${cin}→${cout}, input ${h}×${w}`, async () => {
      const values = lcgKernel(kh * 100 + cin * 10 + cout, kh * kw * cin * cout);
      const kernel = tf.tensor4d(values, [kh, kw, cin, cout]);
      const dense = await denseMatrixOf(
        (x) => tf.conv2d(circularPad(x as tf.Tensor4D, kh, kw), kernel, 1, 'valid'),
        [h, w, cin],
      );
      kernel.dispose();
      expect(dense.rows).toBe(h * w * cout);
      const oracle = singularValuesOracle(dense.values, dense.rows, dense.cols);
      const got = convSingularValues(values, [kh, kw, cin, cout], [h, w]);
      const r = h * w * Math.min(cin, cout);
      expect(got.length).toBe(r);
      // float32 conv products in the oracle matrix: entries are exact kernel values, so 1e-6 is ample.
      for (let i = 0; i < r; i++) expect(Math.abs(got[i] - oracle[i])).toBeLessThan(1e-6);
      for (let i = r; i < oracle.length; i++) expect(oracle[i]).toBeLessThan(1e-6);
      expect(convSpectralNorm(values, [kh, kw, cin, cout], [h, w])).toBeCloseTo(oracle[0], 6);
    });
  }
});

describeBackends(
  'convSingularValues validation',
  () => {
    it('rejects bad shapes with a clear message', () => {
      expect(() => convSingularValues([1, 2], [1, 1, 1, 1], [2, 2])).toThrow(
        /^convSingularValues: kernel has 2 values but kernelShape \[1, 1, 1, 1\] needs 1/,
      );
      expect(() => convSingularValues([1], [1, 1, 1], [2, 2])).toThrow(/^convSingularValues: kernelShape must be \[kh, kw, cin, cout\]/);
      expect(() => convSpectralNorm([1], [1, 1, 1, 1], [2])).toThrow(/^convSpectralNorm: inputSize must be \[height, width\]/);
      expect(() => convSpectralNorm(new Array(9).fill(0), [3, 3, 1, 1], [2, 2])).toThrow(
        /^convSpectralNorm: kernel 3×3 is larger than the input 2×2/,
      );
      expect(() => convSpectralNorm([1], [1, 1, 0, 1], [2, 2])).toThrow(/^convSpectralNorm: kernelShape cin must be a positive integer, got 0/);
      expect(() => convSpectralNorm([Number.NaN], [1, 1, 1, 1], [2, 2])).toThrow(/^convSpectralNorm: kernel\[0\] is NaN/);
    });
  },
  ['cpu'],
);
