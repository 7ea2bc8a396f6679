import { describeBackends, expectClose, expectNoLeaks, finiteDifferenceGradient, seededNormal } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { geometricSigmas, knownMatrix } from '../test/known-matrices';
import { batchSingularValues, maxDeviationFromOne } from '../test/oracle';
import { bjorck } from './bjorck';
import { polarExpress, polarExpressIterations, polarExpressSchedule } from './polar-express';

it('each scheduled cubic maps [ℓ, 1] into [ℓ′, 1] with its maximum exactly 1 (checked on a dense grid)', () => {
  const schedule = polarExpressSchedule(1e-3, 12);
  let lo = 1e-3;
  for (const [a, negB] of schedule) {
    const p = (s: number) => a * s + negB * s ** 3;
    let max = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i <= 20000; i++) {
      const s = lo + ((1 - lo) * i) / 20000;
      max = Math.max(max, p(s));
      min = Math.min(min, p(s));
    }
    expect(max).toBeLessThanOrEqual(1 + 1e-12);
    expect(max).toBeGreaterThan(1 - 1e-6);
    expect(Math.abs(p(lo) - p(1))).toBeLessThan(1e-12); // equioscillation at both ends
    expect(min).toBeCloseTo(p(lo), 12);
    expect(p(lo)).toBeGreaterThan(lo); // progress
    lo = p(lo);
  }
  expect(1 - lo).toBeLessThan(2 ** -24);
  // it tends to Björck/Newton–Schulz (3/2, −1/2), and grows small σ ~2.6× per step (Björck: 1.5×)
  expect(schedule[11][0]).toBeCloseTo(1.5, 9);
  expect(schedule[11][1]).toBeCloseTo(-0.5, 9);
  expect(schedule[0][0]).toBeGreaterThan(2.5);
  expect(polarExpressIterations(1e-3)).toBe(11);
  expect(polarExpressIterations(1e-4)).toBe(13);
});

describeBackends('polarExpress', () => {
  it('reaches the polar factor U Vᵀ (tall, wide, square, batched; direct and gram forms)', async () => {
    for (const [rows, cols, seed] of [
      [24, 6, 1],
      [6, 24, 2],
      [8, 8, 3],
    ]) {
      const { values, polar } = knownMatrix(rows, cols, geometricSigmas(Math.min(rows, cols), 3, 20), seed);
      const w = tf.tensor2d(values, [rows, cols]);
      for (const form of ['direct', 'gram', 'auto'] as const) {
        const q = polarExpress(w, { form });
        expect(q.shape).toEqual([rows, cols]);
        await expectClose(q, polar, { atol: 3e-6 });
      }
    }
    const batch = seededNormal([3, 2, 7, 5], 4);
    const q = polarExpress(batch);
    expect(maxDeviationFromOne(await batchSingularValues(q))).toBeLessThan(2e-6);
    await expectClose(q, bjorck(batch, { iterations: 40 }), { atol: 1e-5 });
  });

  it('singular values never exceed 1 (+ float32 rounding), even when not converged', async () => {
    const w = tf.mul(seededNormal([12, 6], 5), 7);
    for (const iterations of [1, 2, 4]) {
      for (const form of ['direct', 'gram'] as const) {
        const svs = (await batchSingularValues(polarExpress(w, { iterations, form, refinementSteps: 0 })))[0];
        expect(svs[0]).toBeLessThanOrEqual(1 + 2e-6);
      }
    }
  });

  it('cond 1e3: 11 steps (default) suffice where the reference 20 Björck steps do not; cond 2e3 needs lowerBound 1e-4 (13 steps)', async () => {
    const ill = knownMatrix(48, 12, geometricSigmas(12, 1, 1000), 3);
    const w = tf.tensor2d(ill.values, [48, 12]);
    expect(maxDeviationFromOne(await batchSingularValues(bjorck(w, { seed: 1 })))).toBeGreaterThan(2e-5);
    expect(maxDeviationFromOne(await batchSingularValues(polarExpress(w, { form: 'direct' })))).toBeLessThan(2e-6);
    expect(maxDeviationFromOne(await batchSingularValues(polarExpress(w, { form: 'gram' })))).toBeLessThan(2e-6);
    const worse = knownMatrix(48, 12, geometricSigmas(12, 1, 2000), 3);
    const w2 = tf.tensor2d(worse.values, [48, 12]);
    expect(maxDeviationFromOne(await batchSingularValues(polarExpress(w2)))).toBeGreaterThan(1e-3);
    expect(maxDeviationFromOne(await batchSingularValues(polarExpress(w2, { lowerBound: 1e-4 })))).toBeLessThan(2e-6);
  });

  it('gradient matches finite differences, and the converged gradient equals converged Björck’s', async () => {
    // unconverged (3 steps), scaling none so that every dependence on w is differentiated
    const small = tf.mul(seededNormal([5, 3], 6), 0.2);
    const r = seededNormal([5, 3], 7);
    for (const form of ['direct', 'gram'] as const) {
      const f = (x: tf.Tensor) =>
        tf.sum(tf.mul(polarExpress(x, { iterations: 3, form, refinementSteps: 1, scaling: 'none' }), r)) as tf.Scalar;
      // a degree-27 polynomial map: a small step keeps the O(h²) truncation error below the tolerance
      await expectClose(tf.grad(f)(small), [...(await finiteDifferenceGradient(f, small, 3e-3)).values()], { atol: 3e-3, rtol: 1e-2 });
    }
    const w = seededNormal([5, 3], 8);
    // both converge to the derivative of the polar map
    const loss = (g: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor) => tf.sum(tf.mul(g(x), r)) as tf.Scalar;
    const gFast = tf.grad(loss((x) => polarExpress(x, { iterations: 14 })))(w);
    const gRef = tf.grad(loss((x) => bjorck(x, { iterations: 40 })))(w);
    await expectClose(gFast, gRef, { atol: 2e-4, rtol: 1e-3 });
  });

  it('leaves no tensors behind', async () => {
    const w = seededNormal([2, 9, 3], 8);
    await expectNoLeaks(() => polarExpress(w, { iterations: 3, form: 'gram' }));
    await expectNoLeaks(() => polarExpress(w, { iterations: 3, form: 'direct' }));
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(polarExpress(x, { iterations: 3 })))(w));
  });

  it('validates its arguments', () => {
    const w = tf.zeros([4, 2]);
    expect(() => polarExpress(w, { lowerBound: 1 })).toThrow(/^polarExpress: lowerBound must be in \(0, 1\), got 1/);
    expect(() => polarExpress(w, { iterations: 0 })).toThrow(/^polarExpress: iterations must be a positive integer, got 0/);
    expect(() => polarExpress(w, { scaling: 'power' as never })).toThrow(/^polarExpress: scaling must be one of "bound", "none", got "power"/);
    expect(() => polarExpress(w, { form: 'fast' as never })).toThrow(/^polarExpress: form must be one of "auto", "direct", "gram", got "fast"/);
    expect(() => polarExpress(w, { iterations: 1, refinementSteps: 2 })).toThrow(/^polarExpress: refinementSteps \(2\) must not exceed iterations \(1\)/);
    expect(() => polarExpress(tf.zeros([2]))).toThrow(/^polarExpress: w must have rank >= 2/);
    expect(() => polarExpressSchedule(0, 3)).toThrow(/^polarExpressSchedule: lowerBound must be in \(0, 1\), got 0/);
    expect(() => polarExpressSchedule(0.1, 0)).toThrow(/^polarExpressSchedule: iterations must be a positive integer, got 0/);
    expect(() => polarExpressIterations(2)).toThrow(/^polarExpressIterations: lowerBound must be in \(0, 1\), got 2/);
  });
});
