import { LipschitzError } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import { type BjorckOptions, bjorck } from './bjorck';
import { type BjorckGramOptions, bjorckGram } from './bjorck-gram';
import { cayley } from './cayley';
import { type PolarExpressOptions, polarExpress } from './polar-express';

/**
 * How to orthogonalize a matrix: a discriminated union on `kind`, so that layers can take one value
 * and users can switch schemes without code changes.
 * - `'bjorck'`: {@link bjorck} (the reference).
 * - `'bjorck-gram'`: {@link bjorckGram}, Björck's iterates on the Gram matrix (tall/wide matrices).
 * - `'polar-express'`: {@link polarExpress}, minimax cubic schedule (fewer steps, σ ≤ 1 throughout).
 * - `'cayley'`: {@link cayley}, a parametrisation (not the polar factor).
 */
export type OrthogonalizerSpec =
  | ({ kind: 'bjorck' } & BjorckOptions)
  | ({ kind: 'bjorck-gram' } & BjorckGramOptions)
  | ({ kind: 'polar-express' } & PolarExpressOptions)
  | { kind: 'cayley' };

/** The reference (LConvNet BCOP / BjorckLinear / RKO): Björck, 20 iterations, order 1, β = 0.5, 10-step power scaling. */
export const REFERENCE_BJORCK: Readonly<OrthogonalizerSpec> = Object.freeze({
  kind: 'bjorck',
  iterations: 20,
  beta: 0.5,
  order: 1,
  scaling: 'power',
  powerIterations: 10,
});

/** The reference's iterates computed on the Gram matrix (same result, fewer flops for tall/wide matrices). */
export const REFERENCE_BJORCK_GRAM: Readonly<OrthogonalizerSpec> = Object.freeze({
  kind: 'bjorck-gram',
  iterations: 20,
  beta: 0.5,
  order: 1,
  scaling: 'power',
  powerIterations: 10,
  refinementSteps: 2,
});

/** The fast scheme: minimax cubic schedule for σ_min/σ_max ≥ 1e-3 (11 steps), cheaper form chosen by shape. */
export const FAST_POLAR: Readonly<OrthogonalizerSpec> = Object.freeze({
  kind: 'polar-express',
  lowerBound: 1e-3,
  refinementSteps: 2,
  form: 'auto',
});

/**
 * The reduced Björck meant to be used **together with re-projection** (`scaledPolar` after every
 * optimizer step, e.g. the layers' `reproject: true`): 1 Björck step (order 1, β = 0.5) after a 1-step
 * power-iteration scaling. On a re-projected parameter (`c·Q`, every σ/c within ε of 1) the power
 * estimate lies in [σ_min, σ_max], so the scaled σ are within 2ε of 1, and one step
 * `σ ← 1.5σ − 0.5σ³` leaves an error of about 1.5·(2ε)²: measured ε ≤ 5e-6 on MNIST-Small (bench/README.md),
 * i.e. float32 orthogonality. The Jacobian of the step at an orthogonal point is the derivative of the
 * polar factor there (the tangent projection `dw − Q sym(Qᵀdw)`), so the gradient equals the converged
 * scheme's. σ ≤ 1 holds for any input (1.5σ − 0.5σ³ ≤ 1), but a parameter **far** from the scaled
 * manifold is not orthogonalized (σ_min/σ_max = 0.5 leaves σ_min ≈ 0.69): use {@link REFERENCE_BJORCK}
 * or {@link FAST_POLAR} without re-projection.
 */
export const REPROJECTED_BJORCK: Readonly<OrthogonalizerSpec> = Object.freeze({
  kind: 'bjorck',
  iterations: 1,
  beta: 0.5,
  order: 1,
  scaling: 'power',
  powerIterations: 1,
});

/** Named presets for {@link orthogonalize} (self-contained schemes; {@link REPROJECTED_BJORCK} is not one, it needs re-projection). */
export const ORTHOGONALIZER_PRESETS = Object.freeze({
  reference: REFERENCE_BJORCK,
  referenceGram: REFERENCE_BJORCK_GRAM,
  fast: FAST_POLAR,
  cayley: Object.freeze({ kind: 'cayley' }) as Readonly<OrthogonalizerSpec>,
});

/**
 * One entry point for every orthogonalization scheme: dispatches on `spec.kind` (default
 * {@link REFERENCE_BJORCK}). Every scheme works on the last two axes, is batched over leading ones,
 * returns the shape of `w` and is differentiable.
 *
 * Ownership: `w` is borrowed; the result is owned by the caller.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` (unknown kind), and whatever the chosen scheme throws.
 * @example
 * ```ts
 * const q = orthogonalize(w);                              // reference Björck
 * const fast = orthogonalize(w, { kind: 'polar-express' }); // same polar factor, fewer steps
 * ```
 * @see Li et al., "Preventing Gradient Attenuation in Lipschitz Constrained Convolutional Networks", NeurIPS 2019.
 */
export function orthogonalize(w: tf.Tensor, spec: Readonly<OrthogonalizerSpec> = REFERENCE_BJORCK): tf.Tensor {
  if (spec == null || typeof spec !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `orthogonalize: spec must be an object with a kind, got ${String(spec)}. Use e.g. REFERENCE_BJORCK.`);
  }
  switch (spec.kind) {
    case 'bjorck': {
      const { kind: _kind, ...options } = spec;
      return bjorck(w, options);
    }
    case 'bjorck-gram': {
      const { kind: _kind, ...options } = spec;
      return bjorckGram(w, options);
    }
    case 'polar-express': {
      const { kind: _kind, ...options } = spec;
      return polarExpress(w, options);
    }
    case 'cayley':
      return cayley(w);
    default:
      throw new LipschitzError(
        'INVALID_ARGUMENT',
        `orthogonalize: spec.kind must be one of "bjorck", "bjorck-gram", "polar-express", "cayley", got ${JSON.stringify((spec as { kind?: unknown }).kind)}.`,
      );
  }
}
