import { prepareBackend } from '@lipschitz/backends';
import { SeededRandom } from '@lipschitz/core';
import { describeBackends, singularValuesOracle } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { SYNC_READ_BACKENDS, orthogonalMatrix, orthogonalTensor } from './initializers';

describeBackends('orthogonal init', () => {
  it('host (MGS) and backend (CholeskyQR2) paths give orthonormal columns or rows times the gain', async () => {
    for (const [rows, cols, gain] of [
      [12, 5, 1],
      [5, 12, 0.5],
      [9, 9, 2],
    ] as const) {
      const sv = singularValuesOracle(orthogonalMatrix(rows, cols, gain, new SeededRandom(1)), rows, cols).slice(0, Math.min(rows, cols));
      for (const s of sv) expect(Math.abs(s - gain)).toBeLessThan(1e-6 * gain);
    }
    for (const [rows, cols] of [
      [1600, 100],
      [100, 1600],
    ] as const) {
      const t = orthogonalTensor(rows, cols, 0.1, new SeededRandom(2));
      expect(t.shape).toEqual([rows, cols]);
      const sv = singularValuesOracle(await t.data(), rows, cols).slice(0, 100);
      for (const s of sv) expect(Math.abs(s - 0.1)).toBeLessThan(1e-6);
      t.dispose();
    }
  });
});

// Issue 17: on WebGPU in a browser a synchronous read (`dataSync`) lost the GPU device, so building a
// network with a large dense layer broke training in the web page. On a backend without cheap synchronous
// reads the host path must be taken — same matrix up to rounding, and no dataSync at all.
describe('orthogonal init on a GPU-like backend', () => {
  it('never reads synchronously there, and gives the CholeskyQR2 matrix of the cpu backend', async () => {
    await prepareBackend('cpu');
    const onCpu = orthogonalTensor(1568, 100, 0.1, new SeededRandom(4));
    const expected = await onCpu.data();
    onCpu.dispose();
    // A backend that is the cpu backend under another name: not one with cheap synchronous reads.
    const name = 'gpu-like-test';
    if (tf.findBackendFactory(name) == null) {
      tf.registerBackend(name, () => tf.findBackend('cpu') as tf.KernelBackend);
      for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: name });
    }
    await tf.setBackend(name);
    const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementation(() => {
      throw new Error('dataSync called on a GPU-like backend');
    });
    try {
      const t = orthogonalTensor(1568, 100, 0.1, new SeededRandom(4));
      expect(dataSync).not.toHaveBeenCalled();
      const actual = await t.data();
      t.dispose();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
      expect(worst).toBeLessThan(1e-5);
      expect(SYNC_READ_BACKENDS.has(name)).toBe(false);
      expect([...SYNC_READ_BACKENDS].sort()).toEqual(['cpu', 'tensorflow', 'wasm']);
    } finally {
      dataSync.mockRestore();
      await tf.setBackend('cpu');
    }
  });
});
