import type { DecisionSearch, DecisionSearchContext } from './decision-attack-core';

const CHUNK = 20;

/**
 * A misclassified starting point, as foolbox 2's `BlendedUniformNoiseAttack`: draw uniform noise in the range
 * until one draw is misclassified (at most `directions` draws), then blend `(1 − e)·x + e·noise` for
 * e = 1/epsilons, 2/epsilons, …, 1 and stop at the first misclassified blend. Draws and blends are asked in
 * chunks and the first success taken, which gives the sequential result. The driver keeps the point. @internal
 */
export function* blendedUniformNoiseStart(ctx: DecisionSearchContext, directions: number, epsilons: number): DecisionSearch {
  const x0 = ctx.original;
  const [lo, hi] = ctx.range;
  let noise: Float64Array | null = null;
  for (let j = 0; j < directions && noise === null; j += CHUNK) {
    const draws: Float64Array[] = [];
    for (let k = j; k < Math.min(directions, j + CHUNK); k++) {
      const v = new Float64Array(x0.length);
      for (let i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * ctx.random.uniform();
      draws.push(v);
    }
    const flags = yield draws;
    const k = flags.indexOf(1);
    if (k >= 0) noise = draws[k];
  }
  if (noise === null) return;
  for (let j = 1; j <= epsilons; j += CHUNK) {
    const blends: Float64Array[] = [];
    for (let k = j; k < Math.min(epsilons + 1, j + CHUNK); k++) {
      const e = k / epsilons;
      const v = new Float64Array(x0.length);
      for (let i = 0; i < v.length; i++) v[i] = (1 - e) * x0[i] + e * noise[i];
      blends.push(v);
    }
    const flags = yield blends;
    if (flags.indexOf(1) >= 0) return;
  }
}
