import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { expectClose, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareBackend } from './prepare-backend';
import { setWasmConvFilterGradFormulation, WASM_PATCH_FILTER_GRAD_MAX_ROWS, type WasmConvFilterGradFormulation } from './wasm-training-kernels';

function normal(shape: number[], seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

type Values = Float32Array | Int32Array | Uint8Array;

/** Runs `fn` on one backend (tensors made from plain arrays inside) and returns every output's values. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor[]): Promise<{ values: Values; shape: number[]; dtype: string }[]> {
  await prepareBackend(backend);
  const outs = tf.tidy(fn);
  const result = await Promise.all(outs.map(async (o) => ({ values: (await o.data()) as Values, shape: o.shape, dtype: o.dtype })));
  tf.dispose(outs);
  return result;
}

async function expectSameOnWasmAndCpu(fn: () => tf.Tensor[], atol = 0): Promise<void> {
  const cpu = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  expect(wasm.map((o) => [o.shape, o.dtype])).toEqual(cpu.map((o) => [o.shape, o.dtype]));
  for (let i = 0; i < cpu.length; i++) {
    if (atol === 0) expect(Array.from(wasm[i].values)).toEqual(Array.from(cpu[i].values));
    else await expectClose(Float32Array.from(wasm[i].values), Float32Array.from(cpu[i].values), { atol, rtol: 0 });
  }
}

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

function filterGrad(x: number[], k: number, cout: number, stride: number, pad: Pad, seed: number) {
  return () => {
    const xt = tf.tensor4d(normal(x, seed), x as [number, number, number, number]);
    const w = tf.tensor4d(normal([k, k, x[3], cout], seed + 1), [k, k, x[3], cout]);
    const y = tf.conv2d(xt, w, stride, pad);
    const r = tf.tensor(normal(y.shape, seed + 2), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r)))([xt, w]);
    return [dx, dw];
  };
}

describe('wasm Conv2DBackpropFilter formulations against the cpu backend', () => {
  afterEach(() => {
    setWasmConvFilterGradFormulation('im2col');
  });
  const cases: { x: number[]; k: number; cout: number; stride: number; pad: Pad }[] = [];
  for (const k of [1, 2, 3]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) cases.push({ x: [3, 7, 6, 2], k, cout: 5, stride, pad });
    }
  }
  cases.push({ x: [2, 9, 9, 1], k: 3, cout: 4, stride: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] }); // explicit, asymmetric
  cases.push({ x: [2, 8, 7, 3], k: 4, cout: 3, stride: 2, pad: [[0, 0], [0, 3], [3, 0], [0, 0]] }); // padding only on one side
  cases.push({ x: [2, 5, 5, 16], k: 2, cout: 3, stride: 1, pad: 'valid' }); // 64 patch rows: the last patch-matrix size
  cases.push({ x: [2, 5, 5, 17], k: 2, cout: 3, stride: 1, pad: 'valid' }); // 68 rows: the conv formulation
  cases.push({ x: [4, 15, 15, 4], k: 2, cout: 16, stride: 1, pad: 'valid' }); // MNIST-Small conv1 (after circular padding)
  for (const formulation of ['im2col', 'conv'] as WasmConvFilterGradFormulation[]) {
    for (const c of cases) {
      it(`${formulation}: x [${c.x.join(', ')}], ${c.k}×${c.k} → ${c.cout}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`, async () => {
        setWasmConvFilterGradFormulation(formulation);
        await expectSameOnWasmAndCpu(filterGrad(c.x, c.k, c.cout, c.stride, c.pad, 10), 1e-4);
      });
    }
  }

  it('the patch-matrix threshold is 64 rows, and both formulations agree with central finite differences (float64 host loss)', async () => {
    expect(WASM_PATCH_FILTER_GRAD_MAX_ROWS).toBe(64);
    await prepareBackend('wasm');
    const [b, h, w, c, k, o] = [2, 6, 5, 3, 3, 2];
    const x = normal([b, h, w, c], 40);
    const wt = normal([k, k, c, o], 41);
    const r = normal([b, h, w, o], 42);
    // L(W) = Σ r ⊙ conv_same(x, W) in float64 on the host ('same', stride 1: top = left = 1).
    const loss = (weights: Float64Array) => {
      let s = 0;
      for (let n = 0; n < b; n++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let q = 0; q < o; q++) {
              let v = 0;
              for (let p = 0; p < k; p++)
                for (let u = 0; u < k; u++) {
                  const y = i + p - 1;
                  const z = j + u - 1;
                  if (y < 0 || y >= h || z < 0 || z >= w) continue;
                  for (let ci = 0; ci < c; ci++) v += x[((n * h + y) * w + z) * c + ci] * weights[((p * k + u) * c + ci) * o + q];
                }
              s += v * r[((n * h + i) * w + j) * o + q];
            }
      return s;
    };
    const step = 1e-3;
    const numeric = Array.from(wt, (_, i) => {
      const plus = Float64Array.from(wt);
      const minus = Float64Array.from(wt);
      plus[i] += step;
      minus[i] -= step;
      return (loss(plus) - loss(minus)) / (2 * step);
    });
    for (const formulation of ['im2col', 'conv'] as WasmConvFilterGradFormulation[]) {
      setWasmConvFilterGradFormulation(formulation);
      const dw = tf.tidy(() =>
        tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, [b, h, w, c]), ww as tf.Tensor4D, 1, 'same'), tf.tensor4d(r, [b, h, w, o]))))(
          tf.tensor4d(wt, [k, k, c, o]),
        ),
      );
      await expectClose(await dw.data(), numeric, { atol: 1e-3, rtol: 1e-4 });
      dw.dispose();
    }
  });

  it('leaves no tensors or backend data behind (both formulations)', async () => {
    await prepareBackend('wasm');
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const formulation of ['im2col', 'conv'] as WasmConvFilterGradFormulation[]) {
      setWasmConvFilterGradFormulation(formulation);
      for (const stride of [1, 2]) {
        await expectNoLeaks(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.conv2d(x, ww as tf.Tensor4D, stride, 'same')))(w));
      }
    }
    tf.dispose([x, w]);
  });

  it('an unknown formulation is refused with INVALID_ARGUMENT and changes nothing', () => {
    let error: unknown;
    try {
      setWasmConvFilterGradFormulation('fft' as WasmConvFilterGradFormulation);
    } catch (e) {
      error = e;
    }
    expect(LipschitzError.isInstance(error) && error.code).toBe('INVALID_ARGUMENT');
    expect((error as Error).message).toMatch(/^setWasmConvFilterGradFormulation: formulation must be 'im2col' or 'conv'/);
    expect(setWasmConvFilterGradFormulation('im2col')).toBe('im2col');
  });
});

describe('wasm Slice, SplitV and StridedSlice (heap views) against the cpu backend', () => {
  const ints = (shape: number[]) => tf.tensor(Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 7 - 50), shape, 'int32');
  const floats = (shape: number[]) => tf.tensor(normal(shape, shape.length), shape);

  it('slice: ranks 1–5, whole and partial axes, float32 / int32 / bool, empty', async () => {
    await expectSameOnWasmAndCpu(() => [
      tf.slice(floats([10]), [3], [4]),
      tf.slice(floats([4, 9]), [1, 2], [2, 5]),
      tf.slice(floats([4, 9]), [1, 0], [3, -1]), // contiguous rows
      tf.slice(floats([3, 5, 40]), [1, 1, 3], [2, 3, 33]), // long runs
      tf.slice(floats([2, 6, 5, 3]), [0, 1, 0, 0], [2, 4, 5, 3]), // whole inner axes merged into one run per (b, y)
      tf.slice(floats([2, 6, 5, 3]), [1, 2, 1, 1], [1, 3, 3, 2]),
      tf.slice(floats([2, 3, 4, 5, 6]), [1, 0, 1, 2, 0], [1, 3, 2, 2, 6]),
      tf.slice(ints([5, 6]), [2, 1], [2, 4]),
      tf.slice(tf.greater(floats([4, 6]), 0), [1, 2], [3, 3]),
      tf.slice(floats([4, 6]), [1, 2], [0, 3]),
    ]);
  });

  it('split: every axis, equal and unequal sizes, int32; concat of the pieces is the input', async () => {
    await expectSameOnWasmAndCpu(() => [
      ...tf.split(floats([4, 6, 5, 8]), 2, 3),
      ...tf.split(floats([4, 6, 5, 8]), [1, 3, 2], 1),
      ...tf.split(floats([4, 6, 5, 8]), [3, -1], 0),
      ...tf.split(ints([6, 4]), [1, 2, 3], 0),
      tf.concat(tf.split(floats([3, 10, 4]), [2, 5, 3], 1), 1),
    ]);
  });

  it('stridedSlice: stride 1 (heap view), masks, shrink, and strided cases (stock kernel)', async () => {
    await expectSameOnWasmAndCpu(() => [
      tf.stridedSlice(floats([6, 40]), [0, 3], [6, 7], [1, 1]),
      tf.stridedSlice(floats([2, 5, 4, 3]), [0, 1, 1, 0], [2, 4, 3, 3], [1, 1, 1, 1]),
      tf.stridedSlice(floats([2, 5, 4, 3]), [1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], 14, 15), // begin/end masks
      tf.stridedSlice(floats([2, 5, 4, 3]), [1, 2, 0, 0], [2, 3, 4, 3], [1, 1, 1, 1], 0, 0, 0, 0, 3), // shrink axes 0, 1
      tf.stridedSlice(floats([2, 5, 4, 3]), [0, 0, 0, 0], [2, 5, 4, 3], [1, 2, 1, 1]),
      tf.stridedSlice(floats([7, 6]), [6, 5], [0, 0], [-2, -1]),
      tf.stridedSlice(ints([6, 5]), [1, 1], [5, 4], [1, 1]),
      tf.stridedSlice(floats([3, 4]), [0, 0], [3, 4], [1, 1]), // identity
    ]);
  });

  it('slice and split gradients match cpu (tfjs has no stridedSlice gradient)', async () => {
    await expectSameOnWasmAndCpu(() => {
      const x = floats([3, 6, 5, 4]);
      const r = floats([3, 6, 5, 4]);
      return tf.grads((a: tf.Tensor) => {
        const [p, q] = tf.split(a, [2, 3], 2);
        const s = tf.slice(a, [1, 1, 0, 1], [2, 4, 5, 2]);
        return tf.add(tf.sum(tf.mul(tf.concat([q, p], 2), r)), tf.sum(tf.square(s)));
      })([x]);
    }, 1e-5);
  });

  it('leave no tensors or backend data behind', async () => {
    await prepareBackend('wasm');
    const x = floats([3, 6, 5, 4]);
    await expectNoLeaks(() => [tf.slice(x, [1, 1, 1, 1], [2, 2, 2, 2]), ...tf.split(x, 2, 3), tf.stridedSlice(x, [0, 1, 0, 0], [3, 5, 5, 4], [1, 1, 1, 1])]);
    x.dispose();
  });
});
