import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { geometricSigmas, knownMatrix } from '../test/known-matrices';
import { batchSingularValues } from '../test/oracle';
import { bjorck } from './bjorck';
import { newtonSchulzRetraction, newtonSchulzStepsFor, stiefelRescale } from './newton-schulz-retraction';

/** A `[rows, cols]` matrix with singular values spread geometrically over [max/ratio⁻¹, max], with its float64 polar factor and RMS σ. */
function known(rows: number, cols: number, max: number, ratio: number, seed: number) {
  const r = Math.min(rows, cols);
  const sigmas = geometricSigmas(r, max, 1 / ratio);
  const m = knownMatrix(rows, cols, sigmas, seed);
  return { ...m, rms: Math.sqrt(sigmas.reduce((a, s) => a + s * s, 0) / r), sigmas };
}

describeBackends('newtonSchulzRetraction', () => {
  it('keeps the Frobenius norm (the norm of c·polar(w)) even far from the manifold, so repeated steps never shrink the scale', async () => {
    // σ spread over [0.01, 1]: s > c, and two steps leave x_k's singular values well below 1
    const { values } = known(200, 50, 1, 0.01, 7);
    const w = tf.tensor2d(values, [200, 50]);
    const norm = (await tf.norm(w).data())[0];
    const { value, drift } = newtonSchulzRetraction(w, { steps: 2 });
    expect((await tf.norm(value).data())[0] / norm).toBeCloseTo(1, 5);
    // Adam-like fixed-size steps then a retraction, 50 times (the failure this guards: ‖w‖_F fell 10× in 50 steps)
    let current: tf.Tensor = tf.clone(w);
    for (let i = 0; i < 50; i++) {
      const next = tf.tidy(() => newtonSchulzRetraction(tf.add(current, tf.mul(tf.sign(tf.randomNormal([200, 50], 0, 1, 'float32', i)), 1e-2)), { steps: 2 }).value);
      current.dispose();
      current = next;
    }
    expect((await tf.norm(current).data())[0]).toBeGreaterThan(norm);
    tf.dispose([w, value, drift, current]);
  });

  it('near the manifold: σ/c within 1.5δ² (one step) and float32 (two) of 1, the polar factor kept (tall, wide, square; float64 oracle)', async () => {
    for (const [rows, cols] of [
      [60, 12],
      [12, 60],
      [16, 16],
    ] as const) {
      // σ in [0.98·m, m]: a drift δ ≤ 2% around the RMS value c
      const { values, polar, rms } = known(rows, cols, 0.3, 0.98, rows + 3 * cols);
      const w = tf.tensor2d(values, [rows, cols]);
      const one = newtonSchulzRetraction(w, { steps: 1 });
      const two = newtonSchulzRetraction(w, { steps: 2 });
      const [s1] = await batchSingularValues(one.value);
      const [s2] = await batchSingularValues(two.value);
      const delta = 0.02;
      for (const s of s1) expect(Math.abs(s / rms - 1), `${rows}×${cols} 1 step`).toBeLessThan(1.5 * delta * delta);
      for (const s of s2) expect(Math.abs(s / rms - 1), `${rows}×${cols} 2 steps`).toBeLessThan(3e-6);
      const got = await tf.div(two.value, rms).data();
      let maxError = 0;
      for (let i = 0; i < got.length; i++) maxError = Math.max(maxError, Math.abs(got[i] - polar[i]));
      expect(maxError, `${rows}×${cols} polar factor`).toBeLessThan(3e-6);
      // drift: the RMS of σ²/c² − 1, measured on the input (host value from the known σ)
      const drift = (await one.drift.data())[0];
      expect(drift).toBeGreaterThan(0.002);
      expect(drift).toBeLessThan(0.03);
      tf.dispose([w, one.value, one.drift, two.value, two.drift]);
    }
  });

  it('far from the manifold (σ_max/σ_min = 50) the singular values stay positive and the polar factor is kept, converging over repeated calls', async () => {
    const { values, polar } = known(30, 10, 4, 0.02, 7);
    let w: tf.Tensor = tf.tensor2d(values, [30, 10]);
    let drift = Number.POSITIVE_INFINITY;
    const drifts: number[] = [];
    for (let call = 0; call < 20; call++) {
      const r = newtonSchulzRetraction(w, { steps: 1 });
      w.dispose();
      w = r.value;
      drift = (await r.drift.data())[0];
      drifts.push(drift);
      r.drift.dispose();
      const [s] = await batchSingularValues(w);
      expect(Math.min(...s), `call ${call}`).toBeGreaterThan(0);
    }
    expect(drifts[0]).toBeGreaterThan(0.5);
    expect(drifts.at(-1)).toBeLessThan(1e-5);
    const [s] = await batchSingularValues(w);
    const c = Math.sqrt(s.reduce((a, v) => a + v * v, 0) / s.length);
    const got = await tf.div(w, c).data();
    let maxError = 0;
    for (let i = 0; i < got.length; i++) maxError = Math.max(maxError, Math.abs(got[i] - polar[i]));
    expect(maxError).toBeLessThan(1e-5);
    w.dispose();
  });

  it('batched: each matrix is retracted with its own c; the drift is the largest', async () => {
    const a = known(8, 8, 0.1, 0.95, 1);
    const b = known(8, 8, 2, 0.7, 2);
    const w = tf.tensor3d([...a.values, ...b.values], [2, 8, 8]);
    const r = newtonSchulzRetraction(w, { steps: 4 });
    const svs = await batchSingularValues(r.value);
    for (const s of svs[0]) expect(Math.abs(s / a.rms - 1)).toBeLessThan(3e-6);
    for (const s of svs[1]) expect(Math.abs(s / b.rms - 1)).toBeLessThan(3e-6);
    const single = newtonSchulzRetraction(tf.tensor2d(b.values, [8, 8]));
    expect((await r.drift.data())[0]).toBeCloseTo((await single.drift.data())[0], 5);
    tf.dispose([w, r.value, r.drift, single.value, single.drift]);
  });

  it('is a constant for autodiff, leaks nothing and validates', async () => {
    const w = tf.tensor2d(known(6, 3, 1, 0.9, 3).values, [6, 3]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(newtonSchulzRetraction(x).value))(w);
    expect(Array.from(await g.data()).every((v) => v === 0)).toBe(true);
    await expectNoLeaks(() => newtonSchulzRetraction(w, { steps: 3 }));
    expect(() => newtonSchulzRetraction(w, { steps: 0 })).toThrow(/^newtonSchulzRetraction: steps must be a positive integer/);
    expect(() => newtonSchulzRetraction(tf.tensor1d([1, 2]))).toThrow(/^newtonSchulzRetraction: w must have rank >= 2/);
    tf.dispose([w, g]);
  });
});

describeBackends('stiefelRescale', () => {
  it('on the scaled manifold: value = polar(w), gradient = the converged Björck’s (the polar derivative), tall/wide/square/batched', async () => {
    for (const shape of [
      [12, 5],
      [5, 12],
      [6, 6],
      [2, 7, 4],
    ]) {
      const [rows, cols] = shape.slice(-2);
      const batch = shape.length === 3 ? shape[0] : 1;
      const values: number[] = [];
      for (let b = 0; b < batch; b++) values.push(...known(rows, cols, 1, 0.999999, 40 + b + rows).polar);
      // c = 0.3: a point c·Q on the scaled manifold
      const w = tf.mul(tf.tensor(values, shape), 0.3);
      const upstream = tf.tensor(Array.from({ length: batch * rows * cols }, (_, i) => Math.sin(1.7 * i + 0.3)), shape);
      const ours = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stiefelRescale(x), upstream)))(w);
      const converged = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(bjorck(x, { iterations: 40, scaling: 'frobenius' }), upstream)))(w);
      const got = await ours.data();
      const want = await converged.data();
      let maxError = 0;
      let scale = 0;
      for (let i = 0; i < got.length; i++) {
        maxError = Math.max(maxError, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      expect(scale, `${shape}`).toBeGreaterThan(0.1);
      expect(maxError, `${shape} gradient`).toBeLessThan(2e-4 * scale);
      const value = await stiefelRescale(w).data();
      for (let i = 0; i < value.length; i++) expect(Math.abs(value[i] - values[i]), `${shape} value`).toBeLessThan(1e-5);
      tf.dispose([w, upstream, ours, converged]);
    }
  });

  it('off the manifold it only rescales (w/c) and its gradient is tangent at w/c (orthogonal to Q·S for every symmetric S); no leaks', async () => {
    const w = tf.tensor2d(known(9, 4, 2, 0.5, 11).values, [9, 4]);
    const fro = Math.sqrt((await tf.sum(tf.square(w)).data())[0]);
    const c = fro / 2;
    const value = await stiefelRescale(w).data();
    const raw = await w.data();
    for (let i = 0; i < raw.length; i++) expect(value[i]).toBeCloseTo(raw[i] / c, 6);
    const upstream = tf.tensor2d(Array.from({ length: 36 }, (_, i) => Math.cos(i)), [9, 4]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stiefelRescale(x), upstream)))(w);
    expect(Math.max(...Array.from(await g.data(), Math.abs))).toBeGreaterThan(1e-3);
    await expectNoLeaks(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(stiefelRescale(x), upstream)))(w));
    expect(() => stiefelRescale(tf.tensor1d([1]))).toThrow(/^stiefelRescale: w must have rank >= 2/);
    tf.dispose([w, upstream, g]);
  });
});

it('newtonSchulzStepsFor: the fewest steps whose predicted error 1.5δ² (iterated) is under the tolerance', () => {
  expect(newtonSchulzStepsFor(0)).toBe(1);
  expect(newtonSchulzStepsFor(0.02)).toBe(1); // 6e-4
  expect(newtonSchulzStepsFor(0.03)).toBe(2); // 1.35e-3 → 2.7e-6
  expect(newtonSchulzStepsFor(0.2)).toBe(3); // 0.06 → 5.4e-3 → 4.4e-5
  expect(newtonSchulzStepsFor(Number.NaN)).toBe(6);
  expect(newtonSchulzStepsFor(100)).toBe(5); // capped at δ = 0.5
  expect(newtonSchulzStepsFor(0.02, 1e-6)).toBe(2);
  expect(newtonSchulzStepsFor(0.5, 1e-3, 2)).toBe(2);
  expect(() => newtonSchulzStepsFor(0.1, 0)).toThrow(/^newtonSchulzStepsFor: tolerance/);
  expect(() => newtonSchulzStepsFor(0.1, 1e-3, 0)).toThrow(/^newtonSchulzStepsFor: maxSteps must be a positive integer/);
});
