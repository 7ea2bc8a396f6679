import { describe, expect, it } from 'vitest';
import { seededValues } from '../test/seeded-values';
import { hermitianEigen } from './hermitian-eigen';

describe('hermitianEigen', () => {
  it('diagonalises Hermitian matrices: G W = W Λ and WᴴW = I (n = 1, 2, 3, 7, 24; real and complex)', () => {
    for (const [n, kind] of [
      [1, 'complex'],
      [2, 'complex'],
      [3, 'real'],
      [7, 'complex'],
      [24, 'complex'],
      [6, 'repeated'],
      [5, 'diagonal'],
    ] as const) {
      const a = seededValues(n * n, 40 + n, 1);
      const b = seededValues(n * n, 60 + n, kind === 'real' ? 0 : 1);
      const gr = new Float64Array(n * n);
      const gi = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          // 'repeated': two identical 3×3 Hermitian blocks (every eigenvalue twice); 'diagonal': diag(2, −1, 2, 0, 2)
          const same = kind !== 'repeated' || Math.floor(i / 3) === Math.floor(j / 3);
          const [p, q] = kind === 'repeated' ? [i % 3, j % 3] : [i, j];
          const m = kind === 'repeated' ? 3 : n;
          gr[i * n + j] = same ? a[p * m + q] + a[q * m + p] : 0;
          gi[i * n + j] = same ? b[p * m + q] - b[q * m + p] : 0;
          if (kind === 'diagonal') {
            gr[i * n + j] = i === j ? [2, -1, 2, 0, 2][i] : 0;
            gi[i * n + j] = 0;
          }
        }
      }
      const { values, vr, vi } = hermitianEigen(gr, gi, n);
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < n; i++) {
          let sr = 0;
          let si = 0;
          for (let j = 0; j < n; j++) {
            sr += gr[i * n + j] * vr[j * n + k] - gi[i * n + j] * vi[j * n + k];
            si += gr[i * n + j] * vi[j * n + k] + gi[i * n + j] * vr[j * n + k];
          }
          expect(Math.abs(sr - values[k] * vr[i * n + k])).toBeLessThan(1e-12);
          expect(Math.abs(si - values[k] * vi[i * n + k])).toBeLessThan(1e-12);
        }
        for (let l = 0; l < n; l++) {
          let dr = 0;
          let di = 0;
          for (let i = 0; i < n; i++) {
            dr += vr[i * n + k] * vr[i * n + l] + vi[i * n + k] * vi[i * n + l];
            di += vr[i * n + k] * vi[i * n + l] - vi[i * n + k] * vr[i * n + l];
          }
          expect(Math.abs(dr - (k === l ? 1 : 0))).toBeLessThan(1e-12);
          expect(Math.abs(di)).toBeLessThan(1e-12);
        }
      }
    }
  });
});
