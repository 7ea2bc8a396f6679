import { describe, expect, it } from 'vitest';
import { REFERENCE_LR_GAMMA, compressedExponentialSchedule, constantSchedule, cosineSchedule, exponentialSchedule } from './schedule';

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

describe('cosineSchedule', () => {
  it('anneals from the start rate to the paper’s end rate over N epochs, then holds it', () => {
    const lr = cosineSchedule({ epochs: 100 });
    const end = 1e-3 * Math.exp(200 * Math.log(0.96235062639)); // the reference's epoch-200 rate, computed independently
    expect(lr(0)).toBe(1e-3);
    expect(lr(100)).toBeCloseTo(end, 18);
    expect(lr(150)).toBe(lr(100));
    // halfway: the mean of the two rates; a quarter in: end + (1e-3 − end)·(1 + 1/√2)/2
    expect(lr(50)).toBeCloseTo((1e-3 + end) / 2, 15);
    expect(lr(25)).toBeCloseTo(end + ((1e-3 - end) * (1 + Math.SQRT1_2)) / 2, 15);
    // strictly decreasing over the cycle, and above 1e-4 through epoch 79 (the compressed decay is below it after epoch 30)
    for (let e = 1; e <= 100; e++) expect(lr(e)).toBeLessThan(lr(e - 1));
    expect(lr(79)).toBeGreaterThan(1e-4);
    expect(lr(80)).toBeLessThan(1e-4);
    expect(compressedExponentialSchedule({ epochs: 100 })(31)).toBeLessThan(1e-4);
  });

  it('takes an initial and final rate', () => {
    const lr = cosineSchedule({ epochs: 4, initial: 2e-3, final: 0 });
    expect([lr(0), lr(2), lr(4)]).toEqual([2e-3, 1e-3, 0]);
    expect(lr(1)).toBeCloseTo(1e-3 * (1 + Math.SQRT1_2), 15);
  });

  it('refuses bad options', () => {
    expect(() => cosineSchedule({ epochs: 0 })).toThrow(/^cosineSchedule: epochs must be/);
    expect(() => cosineSchedule({ epochs: 3, initial: -1 })).toThrow(/^cosineSchedule: initial must be/);
    expect(() => cosineSchedule({ epochs: 3, final: 2e-3 })).toThrow(/^cosineSchedule: final must be in \[0, 0.001\]/);
    expect(() => cosineSchedule({ epochs: 3, final: -1e-9 })).toThrow(/final/);
    expect(() => cosineSchedule({ epochs: 3 })(0.5)).toThrow(/^cosineSchedule: epoch must be a non-negative integer/);
  });
});
