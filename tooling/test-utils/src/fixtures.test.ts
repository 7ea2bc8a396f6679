import { expect, it } from 'vitest';
import { describeBackends, seededNormal, seededUniform, singularValuesOracle } from './index';

describeBackends('test-utils fixtures', () => {
  it('seeded fixtures are deterministic for every seed, 0 included', async () => {
    for (const seed of [0, 1, 7]) {
      expect(Array.from(await seededNormal([5], seed).data())).toEqual(Array.from(await seededNormal([5], seed).data()));
      expect(Array.from(await seededUniform([5], seed).data())).toEqual(Array.from(await seededUniform([5], seed).data()));
    }
    expect(Array.from(await seededNormal([5], 0).data())).not.toEqual(Array.from(await seededNormal([5], 1).data()));
  });

  it('singularValuesOracle of a diagonal matrix', () => {
    expect(singularValuesOracle([3, 0, 0, -2], 2, 2)).toEqual([3, 2]);
    // A wide matrix has min(rows, cols) singular values (ml-matrix needs autoTranspose for that).
    const wide = singularValuesOracle([1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0], 3, 5);
    expect(wide.map((v) => Math.round(v * 1e12) / 1e12)).toEqual([3, 2, 1]);
  });
});
