/**
 * Test-only JavaScript source shared by the browser and the Node-WebGPU tests, bundled with esbuild into the
 * page or the child process: `compareWithCpu(name, options)` computes conv2d (strides 1 and 2) and
 * flagged-matMul gradients on the cpu backend, then on `name` (through `prepareBackend`), and returns
 * `{ backend, reason, maxDiff, count }` — the largest absolute difference over the 5 gradients. A failing
 * `prepareBackend(name)` throws its `LipschitzError` (the cpu values are computed first).
 */
export const GRADIENT_CHECK_SOURCE = `
import * as tf from '@tensorflow/tfjs-core';
import { prepareBackend } from '@lipschitz/backends';
const values = (n, k) => Array.from({ length: n }, (_, i) => Math.sin(i * k));
function compute() {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 6 * 7 * 3, 0.7), [2, 6, 7, 3]);
    const w = tf.tensor4d(values(3 * 3 * 3 * 4, 1.3), [3, 3, 3, 4]);
    const a = tf.tensor2d(values(5 * 4, 0.3), [5, 4]);
    const out = [];
    for (const stride of [1, 2]) out.push(...tf.grads((p, q) => tf.sum(tf.square(tf.conv2d(p, q, stride, 'same'))))([x, w]));
    out.push(tf.grad((p) => tf.sum(tf.square(tf.matMul(p, p, true, false))))(a));
    return out;
  });
}
async function compareWithCpu(name, options) {
  await prepareBackend('cpu');
  const expected = await Promise.all(compute().map((t) => t.data()));
  const prepared = await prepareBackend(name, options);
  const actual = await Promise.all(compute().map((t) => t.data()));
  let maxDiff = 0;
  actual.forEach((v, i) => v.forEach((value, j) => { maxDiff = Math.max(maxDiff, Math.abs(value - expected[i][j])); }));
  return { backend: prepared.backend, reason: prepared.reason, maxDiff, count: actual.length };
}
`;
