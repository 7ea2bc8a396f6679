import { SeededRandom } from '@lipschitz/core';
import { describeBackends, singularValuesOracle } from '@lipschitz/test-utils';
import { expect, it } from 'vitest';
import { orthogonalMatrix, orthogonalTensor } from './initializers';

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
