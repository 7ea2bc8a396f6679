import type * as tf from '@tensorflow/tfjs-core';
import { assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import type { Predict } from './attack-core';
import {
  type DecisionAttackCommonOptions,
  type DecisionAttackResult,
  type DecisionSearch,
  type DecisionSearchContext,
  runDecisionAttack,
} from './decision-attack-core';
import { blendedUniformNoiseStart } from './blended-noise-start';
import { SlidingRate } from './sliding-rate';

/** Options of {@link boundaryAttack}; the defaults are foolbox 2.x's `BoundaryAttack` defaults. */
export interface BoundaryAttackOptions extends DecisionAttackCommonOptions {
  /** ε used to count an example as broken (`‖δ‖₂ < ε + 1e-6`); the attack itself minimises ‖δ‖₂. */
  epsilon: number;
  /** Maximum iterations (foolbox 2: 5000); the attack stops earlier once it has converged. */
  iterations?: number;
  /** Candidates drawn per iteration (foolbox 2: 25). */
  maxDirections?: number;
  /** Initial relative size of the orthogonal (spherical) step (foolbox 2: 1e-2). */
  sphericalStep?: number;
  /** Initial relative size of the step towards the original (foolbox 2: 1e-2). */
  sourceStep?: number;
  /** Factor by which both step sizes adapt (foolbox 2: 1.5). */
  stepAdaptation?: number;
  /** Uniform-noise draws tried to find a misclassified start (foolbox 2 `BlendedUniformNoiseAttack`: 1000). */
  initDirections?: number;
  /** Blending factors tried between the image and that noise (foolbox 2: 1000). */
  initEpsilons?: number;
}

interface BoundarySettings {
  iterations: number;
  maxDirections: number;
  sphericalStep: number;
  sourceStep: number;
  stepAdaptation: number;
  initDirections: number;
  initEpsilons: number;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** What candidate generation reads of a search's context: the clean image, the range and the image's generator. @internal */
export type CandidateContext = Pick<DecisionSearchContext, 'original' | 'range' | 'random'>;

/**
 * What the candidates of one iteration share: `x0 − perturbed`, its norm, and scratch buffers (the candidates
 * themselves are fresh arrays: the driver keeps the closest misclassified one).
 */
interface CandidateScratch {
  unnormalized: Float64Array;
  sourceNorm: number;
  perturbation: Float64Array;
  towards: Float64Array;
}

function scratchFor(x0: Float64Array, perturbed: Float64Array): CandidateScratch {
  const d = x0.length;
  const unnormalized = new Float64Array(d);
  for (let i = 0; i < d; i++) unnormalized[i] = x0[i] - perturbed[i];
  return { unnormalized, sourceNorm: norm(unnormalized), perturbation: new Float64Array(d), towards: new Float64Array(d) };
}

/**
 * One candidate of the boundary attack (Brendel et al. 2018, §3; foolbox 2's `generate_candidate_default`):
 * an orthogonal step of relative size `spherical` on the sphere around the original, then a step of relative
 * size `source` towards the original, both clamped into the range. The loops are fused, but every value goes through
 * the same operations in the same order as one loop per step would (so earlier attack files reproduce bit for bit).
 */
function candidatePair(ctx: CandidateContext, shared: CandidateScratch, spherical: number, source: number): [Float64Array, Float64Array] {
  const x0 = ctx.original;
  const [lo, hi] = ctx.range;
  const d = x0.length;
  const { unnormalized, sourceNorm, perturbation, towards } = shared;
  let dot = 0;
  for (let i = 0; i < d; i++) {
    perturbation[i] = ctx.random.normal();
    dot += (perturbation[i] * unnormalized[i]) / sourceNorm;
  }
  let squared = 0;
  for (let i = 0; i < d; i++) {
    perturbation[i] -= (dot * unnormalized[i]) / sourceNorm;
    squared += perturbation[i] * perturbation[i];
  }
  const scale = (spherical * sourceNorm) / Math.sqrt(squared);
  const shrink = 1 / Math.sqrt(spherical * spherical + 1);
  const sphericalCandidate = new Float64Array(d);
  let towardsSquared = 0;
  for (let i = 0; i < d; i++) {
    const v = Math.min(hi, Math.max(lo, x0[i] + shrink * (perturbation[i] * scale - unnormalized[i])));
    sphericalCandidate[i] = v;
    towards[i] = x0[i] - v;
    towardsSquared += towards[i] * towards[i];
  }
  const towardsNorm = Math.sqrt(towardsSquared);
  const length = towardsNorm > 0 ? Math.max(0, source * sourceNorm + (towardsNorm - sourceNorm)) / towardsNorm : 0;
  const candidate = new Float64Array(d);
  for (let i = 0; i < d; i++) candidate[i] = Math.min(hi, Math.max(lo, sphericalCandidate[i] + length * towards[i]));
  return [candidate, sphericalCandidate];
}

/**
 * The `count` candidates of one boundary-attack iteration (Brendel et al. 2018, §3) from the current adversarial
 * `perturbed`: each pair is `[candidate, sphericalCandidate]` (the spherical step alone, then the step of relative
 * size `source` towards the original), drawn in order from `ctx.random` — `count · d` normals, d = the image size.
 * The iteration's `x0 − perturbed` and its norm are computed once and shared; the values are the bits the
 * straightforward one-array-per-intermediate version gives (`packages/certify/test/boundary-candidates.test.ts`).
 * @internal
 */
export function boundaryCandidates(
  ctx: CandidateContext,
  perturbed: Float64Array,
  spherical: number,
  source: number,
  count: number,
): [Float64Array, Float64Array][] {
  const shared = scratchFor(ctx.original, perturbed);
  const pairs: [Float64Array, Float64Array][] = [];
  for (let k = 0; k < count; k++) pairs.push(candidatePair(ctx, shared, spherical, source));
  return pairs;
}

/** The boundary attack's search for one image (foolbox 2.x semantics with batch size 1). @internal */
export function* boundarySearch(ctx: DecisionSearchContext, s: BoundarySettings): DecisionSearch {
  yield* blendedUniformNoiseStart(ctx, s.initDirections, s.initEpsilons);
  const start = ctx.best();
  if (start === null) return; // no misclassified start found: the example stays unbroken
  let perturbed = start;
  let distance = ctx.bestSquaredDistance();
  let spherical = s.sphericalStep;
  let source = s.sourceStep;
  const sphericalRate = new SlidingRate(100);
  const stepRate = new SlidingRate(30);
  const initialConvergenceSteps = 100;
  let convergenceSteps = initialConvergenceSteps;
  let resetted = false;
  for (let step = 1; step <= s.iterations; step++) {
    const strict = convergenceSteps === initialConvergenceSteps;
    if (source < (strict ? 1e-7 : 2e-7)) {
      if (resetted) {
        convergenceSteps--;
        if (convergenceSteps === 0) break;
      } else {
        resetted = true;
        spherical = 1e-2;
        source = 1e-2;
      }
    } else if (convergenceSteps < initialConvergenceSteps) {
      convergenceSteps = initialConvergenceSteps;
      resetted = false;
    }
    const doSpherical = step % 10 === 0 || resetted;
    const pairs = boundaryCandidates(ctx, perturbed, spherical, source, s.maxDirections);
    let found: Float64Array | null = null;
    if (doSpherical) {
      const sphericalFlags = yield pairs.map((p) => p[1]);
      const hits: number[] = [];
      for (let k = 0; k < pairs.length; k++) if (sphericalFlags[k] === 1) hits.push(k);
      const stepFlags = hits.length > 0 ? yield hits.map((k) => pairs[k][0]) : new Uint8Array(0);
      // Replay the statistics foolbox (batch size 1) would record: candidates in order, stop at the first success.
      for (let k = 0, h = 0; k < pairs.length; k++) {
        sphericalRate.push(sphericalFlags[k]);
        if (sphericalFlags[k] !== 1) continue;
        const ok = stepFlags[h++];
        stepRate.push(ok);
        if (ok === 1) {
          found = pairs[k][0];
          break;
        }
      }
    } else {
      const flags = yield pairs.map((p) => p[0]);
      const k = flags.indexOf(1);
      if (k >= 0) found = pairs[k][0];
    }
    if (found !== null) {
      let d2 = 0;
      for (let i = 0; i < found.length; i++) d2 += (found[i] - ctx.original[i]) ** 2;
      if (d2 < distance) {
        perturbed = found;
        distance = d2;
      }
    }
    // Step-size adaptation (foolbox 2 `update_step_sizes`).
    if (sphericalRate.full() || stepRate.full()) {
      if (sphericalRate.full()) {
        const p = sphericalRate.mean();
        if (p > 0.5) {
          spherical *= s.stepAdaptation;
          source *= s.stepAdaptation;
          sphericalRate.clear();
        } else if (p < 0.2) {
          spherical /= s.stepAdaptation;
          source /= s.stepAdaptation;
          sphericalRate.clear();
        }
      }
      if (stepRate.full()) {
        const p = stepRate.mean();
        if (p > 0.5) {
          source *= s.stepAdaptation;
          stepRate.clear();
        } else if (p < 0.2) {
          source /= s.stepAdaptation;
          stepRate.clear();
        }
      }
    }
  }
}

/**
 * The ℓ2 **Boundary attack** (Brendel, Rauber & Bethge 2018), a decision-based attack: it needs only the
 * predicted class. It starts from a misclassified point (uniform noise blended with the image, foolbox's
 * `BlendedUniformNoiseAttack`) and walks along the decision boundary towards the image: each iteration draws
 * `maxDirections` candidates `x̃ = clip(x + (s⊥ + (x̃ₖ − x))/√(1 + σ²))` (an orthogonal step of relative size σ on
 * the sphere around x), then steps a fraction μ of the distance towards x, keeping the first misclassified
 * candidate; σ and μ adapt by ×/÷ 1.5 to keep the success rates between 20% and 50%, and the search stops after
 * `iterations` or once μ < 1e-7 twice (foolbox 2.x `BoundaryAttack`, whose defaults these are; the candidates of an
 * iteration are evaluated as one batch, which gives foolbox's batch-size-1 result with more queries).
 *
 * The result's `perturbationNorms` are the ℓ2 distances of the closest misclassified point found (re-checked in
 * float32); `broken` marks those under ε + 1e-6, and `brokenCertified` counts any found point closer than the
 * example's certified radius — it must be 0. Decision attacks give **upper bounds** on the minimal adversarial
 * distance, never lower bounds. Reads the images to the host (`await data()`); `images` and `labels` are borrowed.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on a non-positive ε, iterations or step, images outside `range`, bad
 *   labels; `SHAPE_MISMATCH` on mismatched sizes.
 * @example
 * ```ts
 * const r = await boundaryAttack((x) => model.apply(x), images, labels, { epsilon: 1.58, certifiedRadii: radii });
 * console.log(r.robustAccuracy, r.perturbationNorms);
 * ```
 * @see Brendel, Rauber & Bethge, "Decision-Based Adversarial Attacks: Reliable Attacks Against Black-Box Machine
 *   Learning Models", ICLR 2018; Rauber et al., Foolbox (2.x) `BoundaryAttack`; Li et al., NeurIPS 2019, Table 3.
 */
export function boundaryAttack(predict: Predict, images: tf.Tensor, labels: tf.Tensor, options: BoundaryAttackOptions): Promise<DecisionAttackResult> {
  const fn = 'boundaryAttack';
  const o = options ?? ({} as BoundaryAttackOptions);
  const s: BoundarySettings = {
    iterations: o.iterations ?? 5000,
    maxDirections: o.maxDirections ?? 25,
    sphericalStep: o.sphericalStep ?? 1e-2,
    sourceStep: o.sourceStep ?? 1e-2,
    stepAdaptation: o.stepAdaptation ?? 1.5,
    initDirections: o.initDirections ?? 1000,
    initEpsilons: o.initEpsilons ?? 1000,
  };
  assertPositiveInteger(fn, 'iterations', s.iterations);
  assertPositiveInteger(fn, 'maxDirections', s.maxDirections);
  assertPositiveNumber(fn, 'sphericalStep', s.sphericalStep);
  assertPositiveNumber(fn, 'sourceStep', s.sourceStep);
  assertPositiveNumber(fn, 'stepAdaptation', s.stepAdaptation);
  assertPositiveInteger(fn, 'initDirections', s.initDirections);
  assertPositiveInteger(fn, 'initEpsilons', s.initEpsilons);
  return runDecisionAttack(
    fn,
    predict,
    images,
    labels,
    { epsilon: o.epsilon, seed: o.seed ?? 0, range: o.range ?? [0, 1], batchSize: o.batchSize ?? 500, certifiedRadii: o.certifiedRadii, onProgress: o.onProgress, imageOffset: o.imageOffset ?? 0 },
    (ctx) => boundarySearch(ctx, s),
  );
}
