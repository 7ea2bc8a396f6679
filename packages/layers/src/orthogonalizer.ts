import { type BjorckOptions, bjorck } from '@lipschitz/orthogonalize';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * How a layer orthogonalizes its parameter matrices. Currently Björck (`@lipschitz/orthogonalize`
 * `bjorck` options: iterations, beta, order, scaling, powerIterations, seed).
 */
export type OrthogonalizerSpec = BjorckOptions & { method?: 'bjorck' };

/** The reference's orthogonalizer for BCOP, BjorckLinear and RKO (reference-bcop.md §2). */
export const REFERENCE_ORTHOGONALIZER: OrthogonalizerSpec = Object.freeze({ method: 'bjorck', iterations: 20, beta: 0.5, order: 1, scaling: 'power' });

/** @internal Orthogonalizes the last two axes of `w` as `spec` says (differentiable). */
export function orthogonalizeWeight(w: tf.Tensor, spec: OrthogonalizerSpec): tf.Tensor {
  const { method: _method, ...options } = spec;
  return bjorck(w, options);
}
