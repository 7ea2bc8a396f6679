import { type BjorckOptions, bjorck } from '@lipschitz/orthogonalize';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * How a layer orthogonalizes its parameter matrices: Björck (`@lipschitz/orthogonalize` `bjorck`
 * options: iterations, beta, order, scaling, powerIterations, seed).
 */
export type OrthogonalizerSpec = BjorckOptions & { method?: 'bjorck' };

/**
 * The reference's orthogonalizer for BCOP, BjorckLinear and RKO (reference-bcop.md §2): Björck, 20
 * iterations, β = 0.5, order 1, scaled by a 10-step power-iteration estimate of σ_max. The layers add
 * `seed` (their own seed) so that the power-iteration start, hence the kernel, is the same on every
 * forward pass (the reference draws a fresh start each call; the result differs only at float32
 * rounding level, and a fixed start makes frozen and unfrozen outputs identical).
 */
export const REFERENCE_ORTHOGONALIZER: Readonly<OrthogonalizerSpec> = Object.freeze({
  method: 'bjorck',
  iterations: 20,
  beta: 0.5,
  order: 1,
  scaling: 'power',
  powerIterations: 10,
});

/**
 * @internal Orthogonalizes the last two axes of `w` as `spec` says (differentiable). A `seed` is
 * mapped to `seed + 1` for the power-iteration start, because tfjs's random ops treat a seed of 0 as
 * "no seed" (a fresh start every call).
 */
export function orthogonalizeWeight(w: tf.Tensor, spec: OrthogonalizerSpec): tf.Tensor {
  const { method: _method, seed, ...options } = spec;
  return bjorck(w, seed === undefined ? options : { ...options, seed: seed >= 0 ? seed + 1 : seed });
}
