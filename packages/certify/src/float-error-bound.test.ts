/**
 * What is tested: float32Gamma against hand values; float32ErrorBound covers the actual float32
 * error of conv nets (circular, zero-same, valid padding; maxMin, groupSort, relu, downsample,
 * flatten) measured against a float64 host forward; the per-radius part is the same for every
 * example and the bound grows with the input's size; logits equal the plain forward's; overflow
 * (weights near 2¹²⁰) gives an infinite bound and nothing certified; errors; no leaks.
 * What is not tested here: the hostile files and the flip search (test/float-soundness.test.ts).
 */
import { encodeTensor } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { conv, dense, model, normalValues, unitConvNet } from '../test/fixtures';
import { float64Forward } from '../test/float-soundness';
import { certifyExportedModel } from './certify-model';
import { forwardOf as exportedForward } from '../test/fixtures';
import { FLOAT32_UNIT_ROUNDOFF, float32ErrorBound, float32Gamma, float32SumErrorCoefficients } from './float-error-bound';

it('float32Gamma is n·u/(1 − n·u) with u = 2^-24 + 2^-52, and Infinity once n·u ≥ 1', () => {
  const u = 2 ** -24 + 2 ** -52;
  expect(FLOAT32_UNIT_ROUNDOFF).toBe(u);
  expect(float32Gamma(1)).toBe(u / (1 - u));
  expect(float32Gamma(577)).toBeCloseTo(3.4392e-5, 8);
  expect(float32Gamma(2 ** 24)).toBe(Number.POSITIVE_INFINITY);
});

/** The exact sum of doubles that are multiples of 2⁻³⁰⁰ (BigInt), rounded once to a double. */
function exactSum(terms: readonly number[]): number {
  let acc = 0n;
  for (const t of terms) acc += BigInt(t * 2 ** 300);
  return Number(acc) / 2 ** 300;
}

/** A seeded shuffle (xorshift). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Float32 evaluations of Σ wᵢhᵢ + b in several orders and models (Math.fround = round to float32). */
function float32Sums(w: Float32Array, h: Float32Array, bias: number): number[] {
  const f = Math.fround;
  const idx = Array.from(w, (_, i) => i);
  const products = idx.map((i) => w[i] * h[i]); // exact in float64 (24 + 24 bits)
  const sums: number[] = [];
  const orders = [idx, [...idx].reverse(), shuffled(idx, 7), shuffled(idx, 8), [...idx].sort((a, b) => products[b] - products[a])];
  for (const order of orders) {
    // recursive, each product rounded, each addition rounded to float32
    let s = f(bias);
    for (const i of order) s = f(s + f(products[i]));
    sums.push(s);
    // FMA: one rounding per step
    s = f(bias);
    for (const i of order) s = f(s + products[i]);
    sums.push(s);
    // the tfjs cpu model: float64 partial sums of 48-blocks added to a float32 result (double rounding)
    let r = 0;
    for (let k = 0; k < order.length; k += 48) {
      let block = 0;
      for (const i of order.slice(k, k + 48)) block += products[i];
      r = f(r + block);
    }
    sums.push(f(r + bias));
    // pairwise (a balanced tree) in float32
    let level = order.map((i) => f(products[i]));
    level.push(f(bias));
    while (level.length > 1) {
      const next: number[] = [];
      for (let k = 0; k < level.length; k += 2) next.push(k + 1 < level.length ? f(level[k] + level[k + 1]) : level[k]);
      level = next;
    }
    sums.push(level[0]);
  }
  return sums;
}

describe('float32SumErrorCoefficients (the signed-sum rounding bound)', () => {
  it('covers float32 sums in many orders, with and without FMA, pairwise and double-rounded, and is tight for one-signed sums', () => {
    for (const [seed, n, mean] of [
      [1, 1568, 0],
      [2, 256, 0],
      [3, 1568, 0.3],
      [4, 100, 1],
    ] as const) {
      const w = Float32Array.from(normalValues(n, seed), (v) => v / Math.sqrt(n));
      const h = Float32Array.from(normalValues(n, seed + 100), (v) => Math.abs(v) + mean);
      const bias = Math.fround(0.1);
      const terms = [...Array.from(w, (v, i) => v * h[i]), bias];
      const exact = exactSum(terms);
      const absSum = terms.reduce((a, t) => a + Math.abs(t), 0);
      const { absolute, signed } = float32SumErrorCoefficients(n + 1);
      const bound = absolute * absSum + signed * Math.abs(exact);
      for (const s of float32Sums(w, h, bias)) expect(Math.abs(s - exact)).toBeLessThanOrEqual(bound);
      // never above the classical γ_n·Σ|t|, and well below it when the terms have mixed signs
      expect(bound).toBeLessThanOrEqual(float32Gamma(n + 1) * absSum);
      if (mean === 0) expect(bound).toBeLessThan(0.6 * float32Gamma(n + 1) * absSum);
    }
    // one-signed, every addition rounding up by almost u: 1 + Σ δ with δ just above half an ulp of 1
    const n = 1000;
    const delta = Math.fround(2 ** -24 * (1 + 2 ** -20));
    let s = 1;
    for (let i = 0; i < n - 1; i++) s = Math.fround(s + delta);
    const exact = exactSum([1, ...Array.from({ length: n - 1 }, () => delta)]);
    const absSum = exact;
    const { absolute, signed } = float32SumErrorCoefficients(n);
    const bound = absolute * absSum + signed * exact;
    expect(Math.abs(s - exact)).toBeLessThanOrEqual(bound);
    expect(Math.abs(s - exact)).toBeGreaterThan(0.99 * (n - 1) * 2 ** -24); // ≈ the bound: it cannot be halved
    expect(Math.abs(s - exact)).toBeGreaterThan(0.99 * bound);
  });
});

describeBackends('float32ErrorBound', () => {
  const nets = {
    unit: unitConvNet(5),
    // zero-same 3×3 and valid 2×2 convs, groupSort and relu, unnormalised weights (L ≫ 1)
    mixed: model([6, 6, 2], [
      conv([3, 3, 2, 4], 31, 'zero-same', { scale: 0.7 }),
      { type: 'groupSort', groupSize: 2 },
      conv([2, 2, 4, 6], 33, 'valid', { scale: 0.5 }),
      { type: 'relu' },
      { type: 'flatten' },
      dense(150, 5, 35, { scale: 0.3 }),
    ]),
  };

  it('covers |f̃ − f| (float64 oracle) for conv nets of every padding, and returns the plain forward logits', async () => {
    for (const net of Object.values(nets)) {
      const n = 24;
      const size = 72;
      const images = tf.randomUniform([n, 6, 6, 2], 0, 1, 'float32', 4);
      const values = (await images.data()) as Float32Array;
      const forward = exportedForward(net);
      try {
        const report = await float32ErrorBound(net.input.shape, net.layers, images, { batchSize: 7 });
        const z = forward.predict(images);
        const plain = (await z.data()) as Float32Array;
        z.dispose();
        expect(Array.from(report.logits)).toEqual(Array.from(plain));
        expect(report.count).toBe(n);
        for (let i = 0; i < n; i++) {
          const exact = float64Forward(net, values.subarray(i * size, (i + 1) * size));
          let err = 0;
          for (let j = 0; j < report.classes; j++) err += (report.logits[i * report.classes + j] - exact[j]) ** 2;
          expect(Math.sqrt(err)).toBeLessThanOrEqual(report.error.constant[i]);
          expect(report.error.overflowRadius[i]).toBeGreaterThan(1e30);
          // small against the logits, so a trained model loses little
          expect(report.error.constant[i]).toBeLessThan(1e-3 * Math.max(1, Math.hypot(...exact)));
        }
        expect(report.error.perRadius).toBeGreaterThan(0);
      } finally {
        forward.dispose();
        images.dispose();
      }
    }
  });

  it('grows with the size of the input (the term γ|W||x|), and the per-radius part does not depend on it', async () => {
    const net = nets.unit;
    const small = tf.fill([1, 6, 6, 2], 0.5);
    const large = tf.fill([1, 6, 6, 2], 5e4);
    try {
      const a = await float32ErrorBound(net.input.shape, net.layers, small);
      const b = await float32ErrorBound(net.input.shape, net.layers, large);
      expect(b.error.constant[0]).toBeGreaterThan(1e4 * a.error.constant[0]);
      expect(b.error.perRadius).toBe(a.error.perRadius);
    } finally {
      tf.dispose([small, large]);
    }
  });

  it('overflow: a layer whose outputs reach 2^127 gives an infinite bound and certifies nothing (finite logits)', async () => {
    // layer 1: every input feeds output o with 2^125·c_o, c = (1, 1/2, 1/4, 1/8): at x = 1 its outputs are 2^127·c_o;
    // layer 2 takes the first three back by 2^-127: logits (1, 1/2, 1/4), margin 1/2, L ≈ 0.57.
    const c = [1, 0.5, 0.25, 0.125];
    const w1 = Array.from({ length: 16 }, (_, k) => 2 ** 125 * c[k % 4]);
    const w2 = Array.from({ length: 12 }, (_, k) => (Math.floor(k / 3) === k % 3 ? 2 ** -127 : 0));
    const huge = model([4], [
      { type: 'dense', weight: encodeTensor([4, 4], w1) },
      { type: 'relu' },
      { type: 'dense', weight: encodeTensor([4, 3], w2) },
    ]);
    const images = tf.fill([2, 4], 1);
    const labels = tf.tensor1d([0, 0], 'int32');
    try {
      const r = await float32ErrorBound(huge.input.shape, huge.layers, images);
      expect(r.error.constant[0]).toBe(Number.POSITIVE_INFINITY);
      expect(r.error.overflowRadius[0]).toBe(-1);
      const report = await certifyExportedModel(huge, images, labels, { epsilons: [0] });
      expect(report.certified['0']).toBe(0);
      expect(Array.from(report.examples.radii)).toEqual([0, 0]);
      const old = await certifyExportedModel(huge, images, labels, { epsilons: [0], floatErrorModel: 'assume-relative-1e-5' });
      expect(old.certified['0']).toBe(1); // the old rule certifies it
    } finally {
      tf.dispose([images, labels]);
    }
  });

  it('does not leak, and rejects bad inputs', async () => {
    const net = nets.unit;
    const images = tf.randomUniform([5, 6, 6, 2], 0, 1, 'float32', 1);
    try {
      await expectNoLeaks(() => float32ErrorBound(net.input.shape, net.layers, images, { batchSize: 2 }), 2);
      await expect(float32ErrorBound(net.input.shape, net.layers, tf.zeros([2, 5, 6, 2]))).rejects.toThrow(/^float32ErrorBound: images have shape \[2, 5, 6, 2\] but the model takes \[N, 6, 6, 2\]/);
      await expect(float32ErrorBound(net.input.shape, net.layers, images, { batchSize: 0 })).rejects.toThrow(/^float32ErrorBound: batchSize must be a positive integer/);
      await expect(float32ErrorBound(net.input.shape, net.layers, tf.fill([1, 6, 6, 2], Number.NaN))).rejects.toThrow(/^float32ErrorBound: image 0 has a NaN or infinite pixel/);
      const bad = [...net.layers, { type: 'dense' as const, weight: encodeTensor([3, 2], [1, 2, 3, 4, 5, 6]) }];
      await expect(float32ErrorBound(net.input.shape, bad, images)).rejects.toThrow(/^validateExportedModel: layer 7/);
    } finally {
      images.dispose();
    }
  });
});
