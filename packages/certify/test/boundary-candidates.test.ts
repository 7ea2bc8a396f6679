import { SeededRandom } from '@lipschitz/core';
import { describe, expect, it } from 'vitest';
import { boundaryCandidates } from '../src/boundary-attack';
import { candidateBits as bits, straightforwardCandidates } from './boundary-candidate-straightforward';

/** An image in [0, 1] and an adversarial `perturbed` at relative distance `spread` (some entries leave the range). */
function scene(d: number, seed: number, spread: number): { x0: Float64Array; perturbed: Float64Array } {
  const r = new SeededRandom(seed);
  const x0 = new Float64Array(d);
  const perturbed = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    x0[i] = Math.fround(r.uniform() < 0.3 ? 0 : r.uniform());
    perturbed[i] = Math.min(1, Math.max(0, x0[i] + spread * r.normal()));
  }
  return { x0, perturbed };
}

describe('boundaryCandidates (the candidates of one boundary-attack iteration)', () => {
  // Step sizes as the attack sees them: the initial 1e-2, grown and shrunk by its factor 1.5, and the tiny ones
  // near convergence; spreads from a start far away to one close to the original.
  const cases = [
    { d: 784, spread: 0.5, spherical: 1e-2, source: 1e-2 },
    { d: 784, spread: 0.05, spherical: 1e-2 * 1.5 ** 8, source: 1e-2 * 1.5 ** 6 },
    { d: 784, spread: 0.3, spherical: 3e-4, source: 1.2e-7 },
    { d: 3072, spread: 0.2, spherical: 0.9, source: 0.4 },
    { d: 7, spread: 1, spherical: 2.5, source: 0.99 },
  ];
  for (const [k, c] of cases.entries()) {
    it(`gives the straightforward version's values bit for bit and draws the same stream (d = ${c.d}, spherical ${c.spherical.toExponential(1)}, source ${c.source.toExponential(1)})`, () => {
      const { x0, perturbed } = scene(c.d, 100 + k, c.spread);
      const range: [number, number] = [0, 1];
      const fused = { original: x0, range, random: new SeededRandom(k) };
      const plain = { original: x0, range, random: new SeededRandom(k) };
      const ours = boundaryCandidates(fused, perturbed, c.spherical, c.source, 25);
      const oracle = straightforwardCandidates(plain, perturbed, c.spherical, c.source, 25);
      expect(ours).toHaveLength(25);
      const a = bits(ours);
      const b = bits(oracle);
      expect(a.length).toBe(b.length);
      const differing = a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);
      expect(differing).toBe(0);
      // Both are in the range, and the step did something (not a trivial equality of two copies of the input).
      expect(ours.every(([cand, sph]) => cand.every((v) => v >= 0 && v <= 1) && sph.every((v) => v >= 0 && v <= 1))).toBe(true);
      expect(ours.some(([cand]) => cand.some((v, i) => v !== perturbed[i]))).toBe(true);
      expect(fused.random.state()).toEqual(plain.random.state());
    });
  }

  it('leaves the shared inputs untouched (the driver keeps `perturbed` as the current adversarial)', () => {
    const { x0, perturbed } = scene(784, 7, 0.4);
    const x0Copy = x0.slice();
    const perturbedCopy = perturbed.slice();
    boundaryCandidates({ original: x0, range: [0, 1], random: new SeededRandom(3) }, perturbed, 1e-2, 1e-2, 25);
    expect([...x0]).toEqual([...x0Copy]);
    expect([...perturbed]).toEqual([...perturbedCopy]);
  });
});
