import { describe, expect, it } from 'vitest';
import { fft2d } from './fft';

/** Textbook 2-D DFT straight from the definition, one exponential per term. */
function naiveDft(re: number[], im: number[], rows: number, cols: number) {
  const outRe: number[] = [];
  const outIm: number[] = [];
  for (let p = 0; p < rows; p++) {
    for (let q = 0; q < cols; q++) {
      let sr = 0;
      let si = 0;
      for (let y = 0; y < rows; y++) {
        for (let x = 0; x < cols; x++) {
          const angle = -2 * Math.PI * ((p * y) / rows + (q * x) / cols);
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          sr += re[y * cols + x] * c - im[y * cols + x] * s;
          si += re[y * cols + x] * s + im[y * cols + x] * c;
        }
      }
      outRe.push(sr);
      outIm.push(si);
    }
  }
  return { re: outRe, im: outIm };
}

describe('fft2d', () => {
  it('transforms an impulse to all ones', () => {
    const out = fft2d([1, 0, 0, 0, 0, 0], undefined, 2, 3);
    for (let i = 0; i < 6; i++) {
      expect(out.re[i]).toBeCloseTo(1, 15);
      expect(out.im[i]).toBeCloseTo(0, 15);
    }
  });

  it('matches the definition on complex non-power-of-two sizes', () => {
    for (const [rows, cols] of [
      [3, 5],
      [4, 4],
      [7, 2],
      [1, 6],
    ]) {
      const re = Array.from({ length: rows * cols }, (_, i) => Math.sin(i + 1));
      const im = Array.from({ length: rows * cols }, (_, i) => Math.cos(3 * i));
      const got = fft2d(re, im, rows, cols);
      const want = naiveDft(re, im, rows, cols);
      for (let i = 0; i < rows * cols; i++) {
        expect(Math.abs(got.re[i] - want.re[i])).toBeLessThan(1e-12);
        expect(Math.abs(got.im[i] - want.im[i])).toBeLessThan(1e-12);
      }
    }
  });

  it('validates its arguments', () => {
    expect(() => fft2d([1, 2, 3], undefined, 2, 2)).toThrow(/^fft2d: re has 3 values but rows\*cols = 2\*2 = 4/);
    expect(() => fft2d([1, 2], [1], 1, 2)).toThrow(/^fft2d: im has 1 values/);
    expect(() => fft2d([1, 2], undefined, 1, 2.5)).toThrow(/^fft2d: cols must be a positive integer, got 2.5/);
  });
});
