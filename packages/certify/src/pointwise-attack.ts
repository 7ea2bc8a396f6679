import type * as tf from '@tensorflow/tfjs-core';
import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import type { Predict } from './attack-core';
import { type DecisionAttackCommonOptions, type DecisionAttackResult, type DecisionSearch, type DecisionSearchContext, runDecisionAttack, squaredDistance } from './decision-attack-core';

/** Options of {@link pointwiseAttack}; the defaults are foolbox 2.x's `PointwiseAttack` defaults. */
export interface PointwiseAttackOptions extends DecisionAttackCommonOptions {
  /** ε used to count an example as broken (`‖δ‖₂ < ε + 1e-6`); the attack itself minimises the perturbation. */
  epsilon: number;
  /** Repetitions of the salt-and-pepper start (foolbox 2 `SaltAndPepperNoiseAttack`: 10). */
  repetitions?: number;
  /** Noise probabilities tried per repetition, evenly up to the current maximum (foolbox 2: 100). */
  epsilons?: number;
  /** Bisection steps per coordinate (foolbox 2: 10). */
  binarySearchSteps?: number;
  /** Optional cap on the queries per image (default: none, as foolbox). */
  maxQueries?: number;
  /** Number of channels (the last axis, NHWC) that share one salt-and-pepper draw (default: the image's last axis). */
  channels?: number;
}

interface PointwiseSettings {
  repetitions: number;
  epsilons: number;
  binarySearchSteps: number;
  maxQueries: number;
  channels: number;
}

/** Salt-and-pepper start (foolbox 2 `SaltAndPepperNoiseAttack`), one query at a time. @internal */
function* saltAndPepperStart(ctx: DecisionSearchContext, s: PointwiseSettings): DecisionSearch {
  const x0 = ctx.original;
  const [lo, hi] = ctx.range;
  const r = hi - lo;
  const pixels = x0.length / s.channels;
  const epsilons = Math.min(s.epsilons, pixels);
  let maxEpsilon = 1;
  for (let rep = 0; rep < s.repetitions; rep++) {
    for (let k = 1; k <= epsilons; k++) {
      const p = (k / epsilons) * maxEpsilon;
      const v = new Float64Array(x0.length);
      for (let q = 0; q < pixels; q++) {
        const u = ctx.random.uniform();
        const noise = (u >= 1 - p / 2 ? r : 0) - (u < p / 2 ? r : 0);
        for (let c = 0; c < s.channels; c++) {
          const i = q * s.channels + c;
          const value = x0[i] + noise;
          v[i] = Math.min(hi, Math.max(lo, value));
        }
      }
      if (squaredDistance(v, x0) >= ctx.bestSquaredDistance()) continue;
      const [hit] = yield [v];
      if (hit === 1) {
        maxEpsilon = Math.min(1, (k / epsilons) * maxEpsilon * 1.2);
        break;
      }
    }
  }
}

/** The pointwise attack's search for one image (foolbox 2.x `PointwiseAttack`). @internal */
export function* pointwiseSearch(ctx: DecisionSearchContext, s: PointwiseSettings): DecisionSearch {
  let queries = 0;
  const ask = function* (v: Float64Array): Generator<Float64Array[], boolean, Uint8Array> {
    queries++;
    const [hit] = yield [Float64Array.from(v)];
    return hit === 1;
  };
  yield* saltAndPepperStart(ctx, s);
  const start = ctx.best();
  if (start === null) return;
  const x0 = ctx.original;
  const x = start;
  const n = x.length;
  // Phase 1: reset single coordinates to the original while the point stays misclassified; restart after each success.
  let changed = true;
  while (changed && queries < s.maxQueries) {
    changed = false;
    for (const index of ctx.random.permutation(n)) {
      if (x[index] === x0[index]) continue;
      const old = x[index];
      x[index] = x0[index];
      if (yield* ask(x)) {
        changed = true;
        break;
      }
      x[index] = old;
      if (queries >= s.maxQueries) return;
    }
  }
  // Phase 2: per coordinate, bisect between the current (misclassified) value and the original.
  let improved = true;
  while (improved && queries < s.maxQueries) {
    improved = false;
    for (const index of ctx.random.permutation(n)) {
      const old = x[index];
      const originalValue = x0[index];
      if (old === originalValue) continue;
      x[index] = originalValue;
      if (yield* ask(x)) {
        improved = true;
        continue;
      }
      let adversarialValue = old;
      let cleanValue = originalValue;
      for (let k = 0; k < s.binarySearchSteps; k++) {
        const middle = (adversarialValue + cleanValue) / 2;
        x[index] = middle;
        if (yield* ask(x)) adversarialValue = middle;
        else cleanValue = middle;
      }
      x[index] = adversarialValue;
      if (adversarialValue !== old) improved = true;
      if (queries >= s.maxQueries) return;
    }
  }
}

/**
 * The **Pointwise attack** (Schott, Rauber, Bethge & Brendel 2019), a decision-based attack: from a misclassified
 * salt-and-pepper version of the image it (1) resets single coordinates to their original value, in random order,
 * while the point stays misclassified, then (2) bisects each remaining coordinate between its value and the
 * original (10 steps), repeating until a full pass brings no change — foolbox 2.x's `PointwiseAttack` with its
 * defaults. It minimises the number of changed coordinates; the result reports the ℓ2 distance of the closest
 * misclassified point it queried (re-checked in float32), as the paper's Table 3 does.
 *
 * `broken` marks examples with a point under ε + 1e-6; `brokenCertified` counts any found point closer than the
 * example's certified radius (must be 0). A decision attack gives an **upper bound** on the minimal adversarial
 * distance. `images` and `labels` are borrowed; images are read to the host.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on bad options, images outside `range`, bad labels; `SHAPE_MISMATCH`
 *   on mismatched sizes or a `channels` that does not divide the image.
 * @example
 * ```ts
 * const r = await pointwiseAttack((x) => model.apply(x), images, labels, { epsilon: 1.58 });
 * ```
 * @see Schott, Rauber, Bethge & Brendel, "Towards the first adversarially robust neural network model on MNIST",
 *   ICLR 2019; Rauber et al., Foolbox (2.x) `PointwiseAttack`, `SaltAndPepperNoiseAttack`; Li et al., NeurIPS 2019.
 */
export function pointwiseAttack(predict: Predict, images: tf.Tensor, labels: tf.Tensor, options: PointwiseAttackOptions): Promise<DecisionAttackResult> {
  const fn = 'pointwiseAttack';
  const o = options ?? ({} as PointwiseAttackOptions);
  const size = images.shape.slice(1).reduce((a, b) => a * b, 1);
  const channels = o.channels ?? (images.rank >= 3 ? images.shape[images.rank - 1] : 1);
  assertPositiveInteger(fn, 'channels', channels);
  if (size % channels !== 0) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: channels (${channels}) must divide the image size ${size}.`);
  }
  const s: PointwiseSettings = {
    repetitions: o.repetitions ?? 10,
    epsilons: o.epsilons ?? 100,
    binarySearchSteps: o.binarySearchSteps ?? 10,
    maxQueries: o.maxQueries ?? Number.POSITIVE_INFINITY,
    channels,
  };
  assertPositiveInteger(fn, 'repetitions', s.repetitions);
  assertPositiveInteger(fn, 'epsilons', s.epsilons);
  assertPositiveInteger(fn, 'binarySearchSteps', s.binarySearchSteps);
  if (s.maxQueries !== Number.POSITIVE_INFINITY) assertPositiveInteger(fn, 'maxQueries', s.maxQueries);
  return runDecisionAttack(
    fn,
    predict,
    images,
    labels,
    { epsilon: o.epsilon, seed: o.seed ?? 0, range: o.range ?? [0, 1], batchSize: o.batchSize ?? 500, certifiedRadii: o.certifiedRadii, onProgress: o.onProgress, imageOffset: o.imageOffset ?? 0 },
    (ctx) => pointwiseSearch(ctx, s),
  );
}
