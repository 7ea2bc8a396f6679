import { LipschitzError, SeededRandom } from '@lipschitz/core';
import { expectClose, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { prepareBackend } from './prepare-backend';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-training-kernels';

type Inputs = Record<string, { values: Float32Array | Int32Array; shape: number[] }>;

function normal(shape: number[], seed: number, std = 1): { values: Float32Array; shape: number[] } {
  const rng = new SeededRandom(seed);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
  return { values, shape };
}

/** Runs `fn` on tensors made from `inputs` on one backend and returns its outputs' values. */
async function runOn(backend: 'cpu' | 'wasm', inputs: Inputs, fn: (t: Record<string, tf.Tensor>) => tf.Tensor[]): Promise<Float32Array[]> {
  await prepareBackend(backend);
  const outs = tf.tidy(() => {
    const t: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) t[k] = tf.tensor(v.values, v.shape, v.values instanceof Int32Array ? 'int32' : 'float32');
    return fn(t);
  });
  const values = await Promise.all(outs.map(async (o) => Float32Array.from(await o.data())));
  tf.dispose(outs);
  return values;
}

/** Compares `fn` on wasm (with the registered kernels) against the cpu backend, value by value. */
async function expectWasmMatchesCpu(inputs: Inputs, fn: (t: Record<string, tf.Tensor>) => tf.Tensor[], atol = 1e-4, rtol = 0): Promise<void> {
  const cpu = await runOn('cpu', inputs, fn);
  const wasm = await runOn('wasm', inputs, fn);
  expect(wasm.length).toBe(cpu.length);
  for (let i = 0; i < cpu.length; i++) await expectClose(wasm[i], cpu[i], { atol, rtol });
}

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

/** Gradients of Σ r ⊙ conv2d(x, w) with respect to x and w. */
function convGrads(stride: number, pad: Pad) {
  return (t: Record<string, tf.Tensor>): tf.Tensor[] => {
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad), t.r));
    const [dx, dw] = tf.grads(f)([t.x, t.w]);
    return [dx, dw];
  };
}

function outSize(n: number, k: number, stride: number, pad: Pad, axis: 1 | 2): number {
  if (pad === 'same') return Math.ceil(n / stride);
  if (pad === 'valid') return Math.ceil((n - k + 1) / stride);
  return Math.floor((n + pad[axis][0] + pad[axis][1] - k) / stride) + 1;
}

describe('wasm training kernels against the cpu backend', () => {
  const [batch, h, w, cin, cout] = [3, 7, 6, 3, 4];
  const cases: { k: number; stride: number; pad: Pad }[] = [];
  for (const k of [1, 2, 3, 4, 5]) for (const stride of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ k, stride, pad });
  cases.push({ k: 3, stride: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] });
  cases.push({ k: 3, stride: 2, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] });
  cases.push({ k: 2, stride: 2, pad: [[0, 0], [0, 3], [3, 0], [0, 0]] });

  for (const { k, stride, pad } of cases) {
    it(`conv2d dx and dW: ${k}×${k}, stride ${stride}, pad ${JSON.stringify(pad)}`, async () => {
      const oh = outSize(h, k, stride, pad, 1);
      const ow = outSize(w, k, stride, pad, 2);
      const inputs = { x: normal([batch, h, w, cin], 1), w: normal([k, k, cin, cout], 2), r: normal([batch, oh, ow, cout], 3) };
      await expectWasmMatchesCpu(inputs, convGrads(stride, pad));
    });
  }

  it('Conv2DBackpropFilter and Conv2DBackpropInput called as kernels (dimRoundingMode, numeric pad)', async () => {
    const inputs = { x: normal([2, 8, 8, 2], 4), dy: normal([2, 5, 5, 5], 5), f: normal([3, 3, 2, 5], 6) };
    await expectWasmMatchesCpu(inputs, (t) => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, {
        strides: [2, 2], pad: 1, dataFormat: 'NHWC', dimRoundingMode: 'ceil', filterShape: [3, 3, 2, 5],
      }) as tf.Tensor,
      tf.engine().runKernel('Conv2DBackpropInput', { dy: t.dy, filter: t.f }, {
        strides: [2, 2], pad: 1, dataFormat: 'NHWC', dimRoundingMode: 'ceil', inputShape: [2, 8, 8, 2],
      }) as tf.Tensor,
    ]);
  });

  it('conv2dTranspose (Conv2DBackpropInput as a forward op) with stride 2', async () => {
    const inputs = { y: normal([2, 4, 3, 5], 7), f: normal([3, 3, 2, 5], 8) };
    await expectWasmMatchesCpu(inputs, (t) => [tf.conv2dTranspose(t.y as tf.Tensor4D, t.f as tf.Tensor4D, [2, 8, 6, 2], 2, 'same')]);
  });

  for (const [transposeA, transposeB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    it(`matMul transposeA=${transposeA} transposeB=${transposeB}: rank 2, batched, broadcast; fused with bias`, async () => {
      const a2 = transposeA ? [5, 4] : [4, 5];
      const b2 = transposeB ? [3, 5] : [5, 3];
      const inputs = {
        a: normal(a2, 9), b: normal(b2, 10), ab: normal([2, ...a2], 11), bb: normal([2, ...b2], 12), bias: normal([3], 13),
      };
      await expectWasmMatchesCpu(inputs, (t) => [
        tf.matMul(t.a, t.b, transposeA, transposeB),
        tf.matMul(t.ab, t.bb, transposeA, transposeB),
        tf.matMul(t.ab, t.b, transposeA, transposeB),
        tf.fused.matMul({ a: t.ab, b: t.bb, transposeA, transposeB, bias: t.bias, activation: 'relu' }),
        tf.fused.matMul({ a: t.a, b: t.b, transposeA, transposeB, bias: t.bias, activation: 'leakyrelu', leakyreluAlpha: 0.3 }),
        tf.fused.matMul({ a: t.ab, b: t.b, transposeA, transposeB, bias: t.bias, activation: 'elu' }),
        tf.fused.matMul({ a: t.ab, b: t.bb, transposeA, transposeB }),
      ]);
    });
  }

  it('fused conv2d (bias, relu) and its gradients, stride 2', async () => {
    const inputs = { x: normal([2, 6, 7, 3], 26), w: normal([3, 3, 3, 4], 27), b: normal([4], 28), r: normal([2, 3, 4, 4], 29) };
    await expectWasmMatchesCpu(inputs, (t) =>
      tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same', bias: b, activation: 'relu' }), t.r)),
      )([t.x, t.w, t.b]),
    );
  });

  it('matMul gradient (which uses transpose flags)', async () => {
    const inputs = { a: normal([6, 5], 14), b: normal([5, 4], 15), r: normal([6, 4], 16) };
    await expectWasmMatchesCpu(inputs, (t) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), t.r)))([t.a, t.b]));
  });

  it('unsortedSegmentSum (ids out of range dropped) and the gradient of gather', async () => {
    const inputs: Inputs = {
      x: normal([6, 2, 3], 17),
      ids: { values: Int32Array.from([0, 2, 2, 3, 0, 7]), shape: [6] },
      g: normal([5, 3], 18),
      gi: { values: Int32Array.from([4, 1, 1, 0]), shape: [4] },
      r: normal([4, 3], 19),
    };
    await expectWasmMatchesCpu(inputs, (t) => [
      tf.unsortedSegmentSum(t.x, t.ids as tf.Tensor1D, 4),
      tf.grad((g: tf.Tensor) => tf.sum(tf.mul(tf.gather(g, t.gi), t.r)))(t.g),
    ]);
  });

  it('a full variableGrads through a small conv net trains on wasm and matches cpu', async () => {
    const inputs = {
      x: normal([4, 8, 8, 2], 20), w1: normal([3, 3, 2, 6], 21, 0.3), w2: normal([3, 3, 6, 4], 22, 0.2), d: normal([64, 3], 23, 0.15), b: normal([3], 24),
      y: normal([4, 3], 25),
    };
    const net = (t: Record<string, tf.Tensor>) => {
      const vars = ['w1', 'w2', 'd', 'b'].map((k) => tf.variable(t[k], true, `${k}_${tf.getBackend()}_${Math.random()}`));
      const [w1, w2, d, b] = vars;
      const { value, grads } = tf.variableGrads(() => {
        const h1 = tf.relu(tf.conv2d(t.x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'));
        const h2 = tf.relu(tf.conv2d(h1, w2 as tf.Tensor4D, 1, 'same'));
        const logits = tf.add(tf.matMul(tf.reshape(h2, [4, 64]), d), b);
        return tf.mean(tf.square(tf.sub(logits, t.y)));
      }, vars);
      const out = [value, ...vars.map((v) => grads[v.name])];
      tf.dispose(vars);
      return out;
    };
    await expectWasmMatchesCpu(inputs, net);
  });
});

describe('wasm training kernels: leaks and registration', () => {
  it('batches of large matrices (multiplied one at a time on wasm) match cpu, with flags and gradients', async () => {
    // 3 × (130 × 128 · 128 × 129) is above WASM_LOOPED_MATMUL_MIN_WORK, so the looped path runs.
    const inputs = { a: normal([3, 130, 128], 30), b: normal([3, 128, 129], 31), r: normal([3, 130, 129], 32) };
    await expectWasmMatchesCpu(
      inputs,
      (t) => [
        tf.matMul(t.a, t.b),
        tf.matMul(tf.transpose(t.a, [0, 2, 1]), t.b, true, false),
        ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b), t.r)))([t.a, t.b]),
      ],
      2e-3,
      1e-4,
    );
  });

  it('conv and matMul gradients leave no tensors or backend data behind', async () => {
    await prepareBackend('wasm');
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const a = tf.randomNormal([5, 5], 0, 1, 'float32', 3);
    const ids = tf.tensor1d([0, 1, 1, 3, 9], 'int32');
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        await expectNoLeaks(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, pad)))([x, w]));
      }
    }
    await expectNoLeaks(() => [tf.matMul(a, a, true, false), tf.matMul(a, a, false, true), tf.matMul(a, a, true, true)]);
    await expectNoLeaks(() => tf.fused.matMul({ a, b: a, transposeA: true }));
    await expectNoLeaks(() => tf.unsortedSegmentSum(a, ids, 5));
    const big = tf.randomNormal([2, 128, 128], 0, 1, 'float32', 4);
    await expectNoLeaks(() => [tf.matMul(big, big), tf.matMul(big, big, true, false)]);
    tf.dispose([x, w, a, ids, big]);
  });

  it('registration is idempotent and can be undone', async () => {
    await prepareBackend('wasm');
    const ours = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    expect(registerWasmTrainingKernels()).toEqual([]);
    unregisterWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    const stock = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    expect(stock).toBeDefined();
    expect(stock).not.toBe(ours);
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const stockProduct = await tf.matMul(a, a, true, false).data();
    expect(Array.from(stockProduct)).toEqual([10, 14, 14, 20]);
    expect([...registerWasmTrainingKernels()].sort()).toEqual([...WASM_TRAINING_KERNELS].sort());
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(stock);
    expect(Array.from(await tf.matMul(a, a, true, false).data())).toEqual([10, 14, 14, 20]);
    a.dispose();
  });

  it('NCHW filter gradients are refused with a clear BACKEND_UNSUPPORTED error', async () => {
    await prepareBackend('wasm');
    const x = tf.zeros([1, 4, 4, 1]);
    const dy = tf.zeros([1, 4, 4, 1]);
    let error: unknown;
    try {
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 1, 1] });
    } catch (e) {
      error = e;
    }
    expect(LipschitzError.isInstance(error) && error.code).toBe('BACKEND_UNSUPPORTED');
    expect((error as Error).message).toMatch(/^Conv2DBackpropFilter \(wasm, @lipschitz\/backends\): dataFormat 'NCHW' is not supported\. Use NHWC/);
    tf.dispose([x, dy]);
  });
});
