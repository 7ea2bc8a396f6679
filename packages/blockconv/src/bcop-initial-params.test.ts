import { LipschitzError } from '@lipschitz/core';
import { describeBackends, singularValuesOracle } from '@lipschitz/test-utils';
import { describe, expect, it } from 'vitest';
import { bcopInitialParams, bcopParamsShape } from './bcop-initial-params';

describe('bcopParamsShape', () => {
  it('is [2(k − 1) + 1, cmax, cmax]', () => {
    expect(bcopParamsShape({ inChannels: 64, outChannels: 32, kernelSize: 2 })).toEqual([3, 64, 64]);
    expect(bcopParamsShape({ inChannels: 1, outChannels: 32, kernelSize: 3 })).toEqual([5, 32, 32]);
    expect(bcopParamsShape({ inChannels: 5, outChannels: 5, kernelSize: 1 })).toEqual([1, 5, 5]);
  });
  it('validates its fields', () => {
    expect(() => bcopParamsShape({ inChannels: 2, outChannels: 2, kernelSize: 0 })).toThrow(/^bcopParamsShape: kernelSize must be a positive integer, got 0/);
    expect(() => bcopParamsShape({ inChannels: 2.5, outChannels: 2, kernelSize: 1 })).toThrow(/^bcopParamsShape: inChannels must be a positive integer, got 2.5/);
  });
});

describeBackends('bcopInitialParams', () => {
  it('gives orthogonal matrices times 1/√cmax, deterministic per seed', async () => {
    const params = bcopInitialParams({ inChannels: 3, outChannels: 6, kernelSize: 3, seed: 7 });
    expect(params.shape).toEqual([5, 6, 6]);
    const values = await params.data();
    for (let m = 0; m < 5; m++) {
      const sv = singularValuesOracle(values.subarray(m * 36, (m + 1) * 36), 6, 6);
      for (const s of sv) expect(Math.abs(s * Math.sqrt(6) - 1)).toBeLessThan(1e-6);
    }
    const again = await bcopInitialParams({ inChannels: 3, outChannels: 6, kernelSize: 3, seed: 7 }).data();
    expect(Array.from(again)).toEqual(Array.from(values));
    const other = await bcopInitialParams({ inChannels: 3, outChannels: 6, kernelSize: 3, seed: 8 }).data();
    expect(Array.from(other)).not.toEqual(Array.from(values));
    // Different matrices within one stack.
    expect(Array.from(values.subarray(0, 36))).not.toEqual(Array.from(values.subarray(36, 72)));
  });

  it('is sign-corrected Haar: the mean of the diagonal entries is near 0, not biased positive', async () => {
    // Without the sign correction of QR, diag(Q)·sign would follow R's sign convention; with it, Q is
    // Haar-distributed and E[Q_ii] = 0. Average over many 2×2 draws (σ of the mean ≈ 0.7/√400).
    const params = bcopInitialParams({ inChannels: 2, outChannels: 2, kernelSize: 201, seed: 1, gain: 1 });
    const v = await params.data();
    let sum = 0;
    for (let m = 0; m < params.shape[0]; m++) sum += v[m * 4] + v[m * 4 + 3];
    expect(Math.abs(sum / (2 * params.shape[0]))).toBeLessThan(0.1);
  });

  it('honours gain and validates its arguments', async () => {
    const p = bcopInitialParams({ inChannels: 2, outChannels: 2, kernelSize: 1, seed: 0, gain: 2 });
    const sv = singularValuesOracle(await p.data(), 2, 2);
    expect(sv[0]).toBeCloseTo(2, 5);
    expect(sv[1]).toBeCloseTo(2, 5);
    expect(() => bcopInitialParams({ inChannels: 2, outChannels: 2, kernelSize: 1, seed: 0.5 })).toThrow(/^bcopInitialParams: seed must be an integer, got 0.5/);
    expect(() => bcopInitialParams({ inChannels: 0, outChannels: 2, kernelSize: 1, seed: 0 })).toThrow(/^bcopInitialParams: inChannels must be a positive integer, got 0/);
    try {
      bcopInitialParams({ inChannels: 2, outChannels: 2, kernelSize: 1, seed: 0, gain: -1 });
      expect.fail('did not throw');
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('INVALID_ARGUMENT');
      expect((e as Error).message).toMatch(/^bcopInitialParams: gain must be in \(0, Infinity\), got -1/);
    }
  });
});
