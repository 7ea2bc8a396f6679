// The wasm training kernels of @lipschitz/backends against their baselines, measured in the same run:
// - conv2d forward + backward (dx and dW), batch 128, 28×28×16 → 16, 3×3, 'same': wasm with the
//   registered kernels versus the cpu backend (stock kernels; stock wasm has no filter gradient at all);
// - the input gradient alone (stride 1 and 2): ours versus the stock wasm Conv2DBackpropInput;
// - matMul with transpose flags on wasm: ours (explicit transpose, then an unflagged product) versus
//   the stock flagged kernel, by unregistering ours around the stock measurement.
import { prepareBackend, registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@lipschitz/backends';
import { measure, type Timing, writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';

const [BATCH, SIZE, CHANNELS, KERNEL] = [128, 28, 16, 3];

function convFwdBwd(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor[] {
  return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')))([x, w]);
}

function summary(t: Timing): { medianMs: number; minMs: number; samples: number } {
  return { medianMs: round(t.medianMs), minMs: round(t.minMs), samples: t.samples.length };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

async function onStockWasm<T>(fn: () => Promise<T>): Promise<T> {
  unregisterWasmTrainingKernels();
  try {
    return await fn();
  } finally {
    registerWasmTrainingKernels();
  }
}

test('backends: wasm training kernels vs cpu backend and stock wasm kernels', async () => {
  await prepareBackend('wasm');
  const result: Record<string, unknown> = {};

  // conv2d fwd+bwd: wasm (ours) vs cpu backend, same shapes and data.
  const xData = await tf.randomNormal([BATCH, SIZE, SIZE, CHANNELS], 0, 1, 'float32', 1).data();
  const wData = await tf.randomNormal([KERNEL, KERNEL, CHANNELS, CHANNELS], 0, 0.1, 'float32', 2).data();
  const convOn = async (backend: 'wasm' | 'cpu', options: { warmup: number; repeats: number }) => {
    await prepareBackend(backend);
    const x = tf.tensor4d(xData, [BATCH, SIZE, SIZE, CHANNELS]);
    const w = tf.tensor4d(wData, [KERNEL, KERNEL, CHANNELS, CHANNELS]);
    const fwd = await measure(() => tf.conv2d(x, w, 1, 'same'), options);
    const fwdBwd = await measure(() => convFwdBwd(x, w, 1), options);
    tf.dispose([x, w]);
    return { fwd, fwdBwd };
  };
  const wasm = await convOn('wasm', { warmup: 2, repeats: 7 });
  const cpu = await convOn('cpu', { warmup: 0, repeats: 1 });
  await prepareBackend('wasm');
  result.conv = {
    shape: { batch: BATCH, size: SIZE, inChannels: CHANNELS, outChannels: CHANNELS, kernel: KERNEL, stride: 1, padding: 'same' },
    wasmForward: summary(wasm.fwd),
    wasmForwardBackward: summary(wasm.fwdBwd),
    cpuForward: summary(cpu.fwd),
    cpuForwardBackward: summary(cpu.fwdBwd),
    cpuOverWasmForwardBackward: round(cpu.fwdBwd.medianMs / wasm.fwdBwd.medianMs),
  };

  // Input gradient alone: ours vs the stock wasm kernel, stride 1 and 2.
  const inputGradient: Record<string, unknown> = {};
  for (const stride of [1, 2]) {
    const out = SIZE / stride;
    const dy = tf.randomNormal([BATCH, out, out, CHANNELS], 0, 1, 'float32', 3) as tf.Tensor4D;
    const w = tf.tensor4d(wData, [KERNEL, KERNEL, CHANNELS, CHANNELS]);
    const dx = () => tf.conv2dTranspose(dy, w, [BATCH, SIZE, SIZE, CHANNELS], stride, 'same');
    const ours = await measure(dx, { warmup: 2, repeats: 7 });
    const stock = await onStockWasm(() => measure(dx, { warmup: 1, repeats: 5 }));
    inputGradient[`stride${stride}`] = { ours: summary(ours), stockWasm: summary(stock), speedup: round(stock.medianMs / ours.medianMs) };
    tf.dispose([dy, w]);
  }
  result.conv2dBackpropInput = inputGradient;

  // matMul with transpose flags: ours vs stock wasm.
  const matMul: Record<string, unknown> = {};
  const square = tf.randomNormal([512, 512], 0, 1, 'float32', 4);
  const tall = tf.randomNormal([3136, 512], 0, 1, 'float32', 5);
  const cases: [string, () => tf.Tensor, number][] = [
    ['512x512 plain', () => tf.matMul(square, square), 7],
    ['512x512 transposeA', () => tf.matMul(square, square, true, false), 7],
    ['512x512 transposeB', () => tf.matMul(square, square, false, true), 7],
    ['W^T W, W 3136x512 (transposeA)', () => tf.matMul(tall, tall, true, false), 3],
  ];
  for (const [name, fn, repeats] of cases) {
    const ours = await measure(fn, { warmup: 1, repeats });
    const stock = await onStockWasm(() => measure(fn, { warmup: 1, repeats }));
    matMul[name] = { ours: summary(ours), stockWasm: summary(stock), speedup: round(stock.medianMs / ours.medianMs) };
  }
  tf.dispose([square, tall]);
  result.matMul = matMul;

  writeBenchResult('backends-conv', result);
});
