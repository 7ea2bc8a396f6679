import { describe, expect, it } from 'vitest';
import { REFERENCE_LR_GAMMA, compressedExponentialSchedule, constantSchedule, exponentialSchedule } from './schedule';

describe('exponentialSchedule', () => {
  it('matches the reference ExponentialLR stepped with the epoch index', () => {
    const lr = exponentialSchedule();
    expect(lr(0)).toBe(1e-3);
    expect(Math.abs(lr(1) - 9.6235062639e-4)).toBeLessThan(1e-15);
    expect(Math.abs(lr(60) - 1e-4)).toBeLessThan(1e-9);
    expect(Math.abs(lr(200) - 4.6415888e-7)).toBeLessThan(1e-13);
    expect(REFERENCE_LR_GAMMA).toBe(0.96235062639);
  });

  it('uses the given initial rate and gamma', () => {
    const lr = exponentialSchedule({ initial: 2e-2, gamma: 0.5 });
    expect([lr(0), lr(1), lr(3)]).toEqual([2e-2, 1e-2, 2.5e-3]);
    expect(constantSchedule(3e-4)(17)).toBe(3e-4);
  });

  it('rejects bad arguments with a clear message', () => {
    expect(() => exponentialSchedule({ initial: 0 })).toThrow(/^exponentialSchedule: initial must be a finite number > 0, got 0/);
    expect(() => exponentialSchedule({ gamma: 1.5 })).toThrow(/^exponentialSchedule: gamma must be in \(0, 1\], got 1.5/);
    expect(() => exponentialSchedule({ gamma: 0 })).toThrow(/gamma must be in \(0, 1\]/);
    expect(() => exponentialSchedule()(1.5)).toThrow(/^exponentialSchedule: epoch must be a non-negative integer, got 1.5/);
    expect(() => constantSchedule(-1)).toThrow(/^constantSchedule: value must be a finite number > 0/);
  });
});

describe('compressedExponentialSchedule', () => {
  it('has the reference start and end rates over N epochs, and is the reference for N = 200', () => {
    const lr = compressedExponentialSchedule({ epochs: 20 });
    expect(lr(0)).toBe(1e-3);
    // epoch 20 uses the rate of the reference's epoch 200: 1e-3 · 0.96235062639^200, computed independently
    expect(lr(20)).toBeCloseTo(1e-3 * Math.exp(200 * Math.log(0.96235062639)), 15);
    expect(lr(10) / lr(9)).toBeCloseTo(0.96235062639 ** 10, 12);
    const same = compressedExponentialSchedule({ epochs: 200 });
    const reference = exponentialSchedule();
    for (const e of [0, 1, 60, 200]) expect(same(e)).toBeCloseTo(reference(e), 18);
  });

  it('refuses bad options', () => {
    expect(() => compressedExponentialSchedule({ epochs: 0 })).toThrow(/epochs/);
    expect(() => compressedExponentialSchedule({ epochs: 2.5 })).toThrow(/epochs/);
    expect(() => compressedExponentialSchedule({ epochs: 5, gamma: 1.5 })).toThrow(/gamma/);
    expect(() => compressedExponentialSchedule({ epochs: 5 })(-1)).toThrow(/epoch/);
  });
});
