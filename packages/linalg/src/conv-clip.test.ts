import { LipschitzError } from '@lipschitz/core';
import { describe, expect, it } from 'vitest';
import { seededValues } from '../test/seeded-values';
import { clipConvSingularValues } from './conv-clip';
import { convSingularValues } from './conv-spectrum';

/**
 * Exact singular values (descending) of the circular conv with `kernel`: `convSingularValues`, tested on
 * its own against the impulse-response matrix of `tf.conv2d` (conv-spectrum.test.ts).
 */
async function convSingularValuesOracle(kernel: ArrayLike<number>, shape: [number, number, number, number], size: [number, number]): Promise<number[]> {
  return Array.from(convSingularValues(kernel, shape, size));
}

describe('clipConvSingularValues', () => {
  it('with a kernel as large as the input (no truncation) clips exactly: σ ← min(σ, 1)', async () => {
    const shape: [number, number, number, number] = [3, 4, 2, 3];
    const kernel = seededValues(3 * 4 * 2 * 3, 11, 0.6);
    const before = await convSingularValuesOracle(kernel, shape, [3, 4]);
    expect(before[0]).toBeGreaterThan(1.3);
    const clipped = clipConvSingularValues(kernel, shape, [3, 4]);
    const after = await convSingularValuesOracle(clipped, shape, [3, 4]);
    const expected = before.map((s) => Math.min(s, 1)).sort((a, b) => b - a);
    for (let i = 0; i < after.length; i++) expect(Math.abs(after[i] - expected[i])).toBeLessThan(2e-5);
  });

  it('leaves a kernel whose norm is already ≤ 1 unchanged', async () => {
    const shape: [number, number, number, number] = [2, 2, 3, 2];
    const kernel = seededValues(24, 5, 0.05);
    expect((await convSingularValuesOracle(kernel, shape, [5, 5]))[0]).toBeLessThan(1);
    const clipped = clipConvSingularValues(kernel, shape, [5, 5], { rounds: 3 });
    for (let i = 0; i < kernel.length; i++) expect(Math.abs(clipped[i] - kernel[i])).toBeLessThan(1e-12);
  });

  it('with truncation, repeated rounds drive σ_max towards the clip value (k = 3 on 6×6)', async () => {
    const shape: [number, number, number, number] = [3, 3, 2, 2];
    const kernel = seededValues(36, 7, 0.8);
    const before = (await convSingularValuesOracle(kernel, shape, [6, 6]))[0];
    expect(before).toBeGreaterThan(1.5);
    const one = (await convSingularValuesOracle(clipConvSingularValues(kernel, shape, [6, 6], { rounds: 1 }), shape, [6, 6]))[0];
    const many = (await convSingularValuesOracle(clipConvSingularValues(kernel, shape, [6, 6], { rounds: 50 }), shape, [6, 6]))[0];
    expect(one).toBeLessThan(before);
    expect(many).toBeLessThanOrEqual(one + 1e-6);
    expect(many).toBeLessThan(1.05);
    // clipTo other than 1
    const half = (await convSingularValuesOracle(clipConvSingularValues(kernel, [3, 3, 2, 2], [3, 3], { clipTo: 0.5 }), shape, [3, 3]))[0];
    expect(Math.abs(half - 0.5)).toBeLessThan(1e-5);
  });
});

describe('clipConvSingularValues validation', () => {
  it('rejects bad arguments with clear errors', () => {
    expect(() => clipConvSingularValues([1, 2], [1, 1, 1, 1], [2, 2])).toThrow(/^clipConvSingularValues: kernel has 2 values but shape \[1, 1, 1, 1\] needs 1/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [0, 2])).toThrow(/^clipConvSingularValues: inputSize\[0\] must be a positive integer/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [2, 2], { rounds: 0 })).toThrow(/rounds must be a positive integer/);
    expect(() => clipConvSingularValues([1], [1, 1, 1, 1], [2, 2], { clipTo: -1 })).toThrow(/clipTo must be a finite number > 0/);
    expect(() => clipConvSingularValues(new Float64Array(9), [3, 3, 1, 1], [2, 2])).toThrow(/must not be larger than the input/);
    try {
      clipConvSingularValues([Number.NaN], [1, 1, 1, 1], [2, 2]);
      expect.unreachable();
    } catch (e) {
      expect(LipschitzError.isInstance(e) && e.code).toBe('NUMERICAL_ERROR');
    }
  });
});
