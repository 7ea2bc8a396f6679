// Parity with the reference implementation: every test vector of reference-bcop.md §1.7.
import { describeBackends, expectClose } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { bcopKernel, bcopKernelFromOrthogonal, bcopParamsShape, circularConv2d } from '../src/index';
import { polarFactor } from './helpers';
import { type ReferenceCase, referenceCases } from './reference-vectors';

/** M[m][i][j] = (i == j) + 0.3·sin(1 + i + 2j + 3m), float64. */
function referenceParams(c: ReferenceCase): { values: Float64Array; shape: [number, number, number] } {
  const shape = bcopParamsShape(c);
  const [count, n] = shape;
  const values = new Float64Array(count * n * n);
  for (let m = 0; m < count; m++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) values[(m * n + i) * n + j] = (i === j ? 1 : 0) + 0.3 * Math.sin(1 + i + 2 * j + 3 * m);
  return { values, shape };
}

/** OIHW weight → HWIO kernel values: kernel[u, v, c, o] = weight[o, c, u, v]. */
function oihwToHwio(weight: number[], cout: number, cin: number, k: number): Float32Array {
  const out = new Float32Array(weight.length);
  for (let o = 0; o < cout; o++) for (let c = 0; c < cin; c++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) out[((u * k + v) * cin + c) * cout + o] = weight[((o * cin + c) * k + u) * k + v];
  return out;
}

/** NCHW (1, C, 4, 4) values → NHWC. */
function nchwToNhwc(values: ArrayLike<number>, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[(y * w + x) * c + ch] = values[(ch * h + y) * w + x];
  return out;
}

/** x = sin(arange(cin·16)/10) as (1, cin, 4, 4), converted to NHWC. */
function referenceInput(cin: number): tf.Tensor4D {
  const x = Array.from({ length: cin * 16 }, (_, i) => Math.sin(i / 10));
  return tf.tensor4d(nchwToNhwc(x, cin, 4, 4), [1, 4, 4, cin]);
}

describeBackends('BCOP parity with the reference test vectors (reference-bcop.md §1.7)', () => {
  it('covers every published case', () => {
    expect(referenceCases.map((c) => `${c.inChannels}->${c.outChannels},k=${c.kernelSize}`)).toEqual(['2->2,k=2', '2->2,k=3', '1->2,k=2', '4->2,k=2']);
  });

  for (const c of referenceCases) {
    const name = `${c.inChannels}->${c.outChannels}, k=${c.kernelSize}`;
    const shape = { inChannels: c.inChannels, outChannels: c.outChannels, kernelSize: c.kernelSize };
    const expectedKernel = oihwToHwio(c.weight, c.outChannels, c.inChannels, c.kernelSize);
    const expectedY = nchwToNhwc(c.y, c.outChannels, 4, 4);

    it(`${name}: bcopKernel (60 Björck iterations) reproduces W and y`, async () => {
      const { values, shape: pShape } = referenceParams(c);
      const kernel = bcopKernel(tf.tensor3d(Float32Array.from(values), pShape), { ...shape, iterations: 60 });
      expect(kernel.shape).toEqual([c.kernelSize, c.kernelSize, c.inChannels, c.outChannels]);
      await expectClose(kernel, expectedKernel, { atol: 1e-5 });
      await expectClose(circularConv2d(referenceInput(c.inChannels), kernel), expectedY, { atol: 1e-5 });
    });

    it(`${name}: the same through an orthogonalizer spec (seeded Björck, 60 iterations)`, async () => {
      const { values, shape: pShape } = referenceParams(c);
      const orthogonalizer = { kind: 'bjorck', iterations: 60, seed: 3 } as const;
      const kernel = bcopKernel(tf.tensor3d(Float32Array.from(values), pShape), { ...shape, orthogonalizer });
      await expectClose(kernel, expectedKernel, { atol: 1e-5 });
    });

    it(`${name}: steps 2–6 from float64 polar factors reproduce W`, async () => {
      const { values, shape: pShape } = referenceParams(c);
      const [count, n] = pShape;
      const ortho = new Float32Array(values.length);
      for (let m = 0; m < count; m++) ortho.set(polarFactor(values.subarray(m * n * n, (m + 1) * n * n), n), m * n * n);
      const kernel = bcopKernelFromOrthogonal(tf.tensor3d(ortho, pShape), shape);
      await expectClose(kernel, expectedKernel, { atol: 1e-5 });
    });
  }
});
