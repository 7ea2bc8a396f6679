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
  });
});
