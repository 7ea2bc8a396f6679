import type { CandidateContext } from '../src/boundary-attack';
import { clampInPlace } from '../src/decision-attack-core';

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * One boundary-attack candidate written the straightforward way — one fresh array and one loop per intermediate,
 * `x0 − perturbed` and its norm recomputed for every candidate — as `boundaryAttack` computed it until its
 * candidates shared that work (commit 8ffbed8). The oracle of `boundaryCandidates`' bit-for-bit claim and the
 * baseline of `bench/boundary-candidates.bench.ts`. Brendel et al. 2018, §3; foolbox 2's `generate_candidate_default`.
 */
export function straightforwardCandidatePair(ctx: CandidateContext, perturbed: Float64Array, spherical: number, source: number): [Float64Array, Float64Array] {
  const x0 = ctx.original;
  const [lo, hi] = ctx.range;
  const d = x0.length;
  const unnormalized = new Float64Array(d);
  for (let i = 0; i < d; i++) unnormalized[i] = x0[i] - perturbed[i];
  const sourceNorm = norm(unnormalized);
  const perturbation = new Float64Array(d);
  let dot = 0;
  for (let i = 0; i < d; i++) {
    perturbation[i] = ctx.random.normal();
    dot += (perturbation[i] * unnormalized[i]) / sourceNorm;
  }
  for (let i = 0; i < d; i++) perturbation[i] -= (dot * unnormalized[i]) / sourceNorm;
  const scale = (spherical * sourceNorm) / norm(perturbation);
  const shrink = 1 / Math.sqrt(spherical * spherical + 1);
  const sphericalCandidate = new Float64Array(d);
  for (let i = 0; i < d; i++) sphericalCandidate[i] = x0[i] + shrink * (perturbation[i] * scale - unnormalized[i]);
  clampInPlace(sphericalCandidate, lo, hi);
  const towards = new Float64Array(d);
  for (let i = 0; i < d; i++) towards[i] = x0[i] - sphericalCandidate[i];
  const towardsNorm = norm(towards);
  const length = towardsNorm > 0 ? Math.max(0, source * sourceNorm + (towardsNorm - sourceNorm)) / towardsNorm : 0;
  const candidate = new Float64Array(d);
  for (let i = 0; i < d; i++) candidate[i] = sphericalCandidate[i] + length * towards[i];
  return [clampInPlace(candidate, lo, hi), sphericalCandidate];
}

/** `count` straightforward candidates in a row (the draws of one iteration). */
export function straightforwardCandidates(ctx: CandidateContext, perturbed: Float64Array, spherical: number, source: number, count: number): [Float64Array, Float64Array][] {
  const pairs: [Float64Array, Float64Array][] = [];
  for (let k = 0; k < count; k++) pairs.push(straightforwardCandidatePair(ctx, perturbed, spherical, source));
  return pairs;
}

/** The 64-bit patterns of every value of every pair, in order, for an exact (bitwise) comparison of two generations. */
export function candidateBits(pairs: [Float64Array, Float64Array][]): bigint[] {
  return pairs.flatMap(([c, s]) => [...new BigUint64Array(c.buffer.slice(0)), ...new BigUint64Array(s.buffer.slice(0))]);
}
