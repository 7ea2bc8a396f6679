import { describe, expect, it } from 'vitest';
import { REFERENCE_LR_GAMMA, constantSchedule, exponentialSchedule } from './schedule';

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
