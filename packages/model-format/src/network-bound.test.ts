/**
 * What is tested: every per-layer norm of networkLipschitzUpperBound against the exact float64 SVD of
 * the layer's dense matrix (impulse response), for circular convs (odd and even, non-square kernels),
 * zero-same and valid convs (upper bounds), dense layers and invertible downsampling; the whole-network
 * bound against the exact norm of the composed linear map; 1-Lipschitz activations on random pairs;
 * the private forward runner against a float64 direct computation; errors.
 * What is not tested here: certification and attacks (certify-model.test.ts, test/soundness.test.ts).
 */
import { type ExportedLayer, LipschitzError, decodeTensor } from '@lipschitz/core';
import { denseMatrixOf, describeBackends, expectNoLeaks, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { conv, dense, forwardOf, model, normalValues } from '../test/fixtures';
import { networkLipschitzUpperBound } from './network-bound';
import { FLOAT32_SLACK_PER_LINEAR_LAYER, HOST_NORM_SLACK } from './slack-policy';

/** σ_max of the (bias-free) network's dense matrix, by float64 SVD of its impulse response. */
async function exactNorm(inputShape: number[], layers: ExportedLayer[]): Promise<number> {
  const forward = forwardOf(layers, inputShape);
  try {
    const { values, rows, cols } = await denseMatrixOf((x) => forward.predict(x), inputShape);
    return singularValuesOracle(values, rows, cols)[0];
  } finally {
    forward.dispose();
  }
}

describeBackends('networkLipschitzUpperBound', () => {
  const circularCases: { name: string; input: number[]; kernel: [number, number, number, number] }[] = [
    { name: 'k=3 odd', input: [5, 5, 2], kernel: [3, 3, 2, 3] },
    { name: 'k=2 even', input: [4, 4, 3], kernel: [2, 2, 3, 2] },
    { name: 'k=4 even', input: [5, 5, 1], kernel: [4, 4, 1, 2] },
    { name: '3×2 non-square', input: [4, 5, 2], kernel: [3, 2, 2, 2] },
  ];
  for (const c of circularCases) {
    it(`circular conv ${c.name}: the per-layer norm is the exact operator norm`, async () => {
      const layers = [conv(c.kernel, 11, 'circular', { bias: false })];
      const bound = networkLipschitzUpperBound(model(c.input, layers));
      const exact = await exactNorm(c.input, layers);
      expect(bound.layers[0].method).toBe('circular-fft');
      expect(bound.layers[0].spectralNorm).toBeGreaterThan(0);
      // exact up to float32 evaluation of the impulse response
      expect(Math.abs(bound.layers[0].spectralNorm - exact) / exact).toBeLessThan(2e-6);
      expect(bound.assumedFloat32Bound).toBeGreaterThanOrEqual(exact);
      expect(bound.safetyFactor).toBeCloseTo((1 + HOST_NORM_SLACK) * (1 + FLOAT32_SLACK_PER_LINEAR_LAYER), 15);
    });
  }

  const paddedCases: { name: string; padding: 'zero-same' | 'valid'; input: number[]; kernel: [number, number, number, number]; out: number[] }[] = [
    { name: 'zero-same k=3', padding: 'zero-same', input: [4, 4, 2], kernel: [3, 3, 2, 2], out: [4, 4, 2] },
    { name: 'zero-same k=2', padding: 'zero-same', input: [4, 4, 2], kernel: [2, 2, 2, 3], out: [4, 4, 3] },
    { name: 'valid k=3', padding: 'valid', input: [5, 5, 2], kernel: [3, 3, 2, 2], out: [3, 3, 2] },
    { name: 'valid k=2', padding: 'valid', input: [4, 4, 1], kernel: [2, 2, 1, 3], out: [3, 3, 3] },
  ];
  for (const c of paddedCases) {
    it(`${c.name} conv: the per-layer value is an upper bound on the exact norm`, async () => {
      const layers = [conv(c.kernel, 21, c.padding, { bias: false })];
      const bound = networkLipschitzUpperBound(model(c.input, layers));
      const exact = await exactNorm(c.input, layers);
      expect(bound.layers[0].outputShape).toEqual(c.out);
      expect(bound.layers[0].spectralNorm).toBeGreaterThanOrEqual(exact * (1 - 1e-6));
      expect(bound.assumedFloat32Bound).toBeGreaterThanOrEqual(exact);
    });
  }

  it('dense: the per-layer norm is σ_max of the weight', async () => {
    const layers = [dense(12, 7, 5, { bias: false })];
    const bound = networkLipschitzUpperBound(model([12], layers));
    const exact = await exactNorm([12], layers);
    expect(Math.abs(bound.layers[0].spectralNorm - exact) / exact).toBeLessThan(2e-6);
    expect(bound.assumedFloat32Bound).toBeGreaterThanOrEqual(exact);
  });

  it('invertible downsampling is a permutation (every singular value 1) and its norm counts 1', async () => {
    const layers: ExportedLayer[] = [{ type: 'invertibleDownsample', factor: 2 }];
    const forward = forwardOf(layers, [4, 4, 2]);
    const { values, rows, cols } = await denseMatrixOf((x) => forward.predict(x), [4, 4, 2]);
    forward.dispose();
    const sv = singularValuesOracle(values, rows, cols);
    expect(Math.max(...sv)).toBeCloseTo(1, 12);
    expect(Math.min(...sv)).toBeCloseTo(1, 12);
    const bound = networkLipschitzUpperBound(model([4, 4, 2], layers));
    expect(bound.layers[0]).toMatchObject({ spectralNorm: 1, outputShape: [2, 2, 8], method: 'one' });
    expect(bound.safetyFactor).toBe(1); // no linear layer: no slack
  });

  it('whole network: the bound is ≥ the exact norm of the composed linear map (conv → downsample → conv → flatten → dense)', async () => {
    const layers = [
      conv([3, 3, 2, 4], 31, 'circular', { bias: false }),
      { type: 'invertibleDownsample', factor: 2 } as ExportedLayer,
      conv([2, 2, 16, 3], 32, 'circular', { bias: false }),
      { type: 'flatten' } as ExportedLayer,
      dense(12, 5, 33, { bias: false }),
    ];
    const bound = networkLipschitzUpperBound(model([4, 4, 2], layers));
    const exact = await exactNorm([4, 4, 2], layers);
    expect(bound.layers.map((l) => l.inputShape)).toEqual([[4, 4, 2], [4, 4, 4], [2, 2, 16], [2, 2, 3], [12]]);
    expect(bound.outputShape).toEqual([5]);
    expect(bound.assumedFloat32Bound).toBeGreaterThanOrEqual(exact);
    expect(bound.exactProduct).toBeCloseTo(bound.layers.reduce((p, l) => p * l.spectralNorm, 1), 10);
    // a product of norms is loose for a composition, but never below the exact value
    expect(bound.exactProduct).toBeGreaterThanOrEqual(exact * (1 - 1e-6));
  });

  it('maxMin, groupSort and relu are 1-Lipschitz on random pairs and count 1', async () => {
    for (const layer of [{ type: 'maxMin' }, { type: 'groupSort', groupSize: 3 }, { type: 'relu' }] as ExportedLayer[]) {
      const forward = forwardOf([layer], [6]);
      const x = tf.tensor2d(Float32Array.from(normalValues(64 * 6, 1)), [64, 6]);
      const y = tf.tensor2d(Float32Array.from(normalValues(64 * 6, 2)), [64, 6]);
      const ratios = tf.tidy(() => tf.div(tf.norm(tf.sub(forward.predict(x), forward.predict(y)), 'euclidean', 1), tf.norm(tf.sub(x, y), 'euclidean', 1)));
      expect(Math.max(...(await ratios.data()))).toBeLessThanOrEqual(1 + 1e-6);
      forward.dispose();
      expect(networkLipschitzUpperBound(model([6], [layer])).assumedFloat32Bound).toBeCloseTo(1, 8);
    }
  });

  it('the runner (exportedForward): circular conv matches a float64 direct cyclic correlation; groupSort sorts groups; downsample follows design.md', async () => {
    const [h, w, cin, cout, kh, kw] = [4, 5, 2, 3, 3, 2];
    const layer = conv([kh, kw, cin, cout], 41, 'circular', { bias: false }) as Extract<ExportedLayer, { type: 'conv2d' }>;
    const k = decodeTensor(layer.kernel).values;
    const xv = normalValues(h * w * cin, 42);
    const forward = forwardOf([layer], [h, w, cin]);
    const out = tf.tidy(() => forward.predict(tf.tensor4d(Float32Array.from(xv), [1, h, w, cin])));
    const got = await out.data();
    forward.dispose();
    const [top, left] = [Math.floor(kh / 2), Math.floor(kw / 2)];
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let o = 0; o < cout; o++) {
          let s = 0;
          for (let a = 0; a < kh; a++)
            for (let b = 0; b < kw; b++)
              for (let c = 0; c < cin; c++) {
                const r = (i + a - top + h) % h;
                const q = (j + b - left + w) % w;
                s += k[((a * kw + b) * cin + c) * cout + o] * Math.fround(xv[(r * w + q) * cin + c]);
              }
          expect(got[(i * w + j) * cout + o]).toBeCloseTo(s, 4);
        }
    const sorter = forwardOf([{ type: 'groupSort', groupSize: 3 }], [6]);
    const sorted = tf.tidy(() => sorter.predict(tf.tensor2d([[1, 3, 2, -1, -3, -2]])));
    expect(Array.from(await sorted.data())).toEqual([3, 2, 1, -1, -2, -3]);
    sorter.dispose();
    const down = forwardOf([{ type: 'invertibleDownsample', factor: 2 }], [4, 4, 3]);
    const input = Array.from({ length: 4 * 4 * 3 }, (_, i) => i);
    const d = tf.tidy(() => down.predict(tf.tensor4d(input, [1, 4, 4, 3])));
    const dv = await d.data();
    down.dispose();
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++)
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 2; j++)
            for (let c = 0; c < 3; c++) expect(dv[(y * 2 + x) * 12 + (i * 2 + j) * 3 + c]).toBe(input[((y * 2 + i) * 4 + (x * 2 + j)) * 3 + c]);
  });

  it('the runner does not leak', async () => {
    const forward = forwardOf([conv([2, 2, 2, 4], 1), { type: 'maxMin' }, { type: 'flatten' }, dense(64, 3, 2)], [4, 4, 2]);
    const x = tf.ones([2, 4, 4, 2]);
    await expectNoLeaks(() => forward.predict(x));
    forward.dispose();
    forward.dispose();
  });

  it('refuses what it cannot bound soundly, with a clear error', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return LipschitzError.isInstance(e) ? e.code : 'not a LipschitzError';
      }
      return 'no error';
    };
    const big = () => networkLipschitzUpperBound(model([2, 2, 1], [conv([3, 3, 1, 1], 1)]));
    expect(big).toThrow(/^validateExportedModel: layer 0 \(conv2d\): circular conv2d kernel 3×3 is larger than its 2×2 input/);
    expect(code(big)).toBe('UNSUPPORTED_CONFIGURATION');
    const unknown = () => networkLipschitzUpperBound(model([4], [{ type: 'softmax' } as unknown as ExportedLayer]));
    expect(unknown).toThrow(/^validateExportedModel: layer 0 \(softmax\): unknown layer type "softmax"; it cannot be bounded soundly/);
    expect(code(unknown)).toBe('UNSUPPORTED_CONFIGURATION');
    const badPadding = () => networkLipschitzUpperBound(model([4, 4, 1], [{ ...conv([3, 3, 1, 1], 1), padding: 'reflect' } as unknown as ExportedLayer]));
    expect(badPadding).toThrow(/padding "reflect" is not one of circular, zero-same, valid/);
    expect(() => networkLipschitzUpperBound(model([4, 4, 1], [{ type: 'flatten' }, conv([1, 1, 1, 1], 1)]))).toThrow(/^validateExportedModel: layer 1 \(conv2d\): conv2d needs an \[h, w, c\] input/);
    expect(() => networkLipschitzUpperBound(model([4, 4, 2], [conv([1, 1, 3, 1], 1)]))).toThrow(/conv2d kernel expects 3 input channels, the input has 2/);
    expect(() => networkLipschitzUpperBound(model([4, 4, 2], [dense(32, 2, 1)]))).toThrow(/dense needs a flat \[features\] input.*Add a flatten layer/);
    expect(() => networkLipschitzUpperBound(model([5], [dense(4, 2, 1)]))).toThrow(/dense weight expects 4 inputs, the input has 5/);
    expect(() => networkLipschitzUpperBound(model([3], [{ type: 'maxMin' }]))).toThrow(/maxMin needs an even number of channels, got 3/);
    expect(() => networkLipschitzUpperBound(model([3, 3, 1], [{ type: 'invertibleDownsample', factor: 2 }]))).toThrow(/divisible by 2/);
    expect(() => networkLipschitzUpperBound(model([0], []))).toThrow(/^validateExportedModel: input.shape\[0\] must be a positive integer/);
    expect(code(() => networkLipschitzUpperBound({} as never))).toBe('CORRUPT_DATA');
  });
});
