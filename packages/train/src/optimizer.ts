import { LipschitzError, assertInRange, assertOneOf, assertPositiveNumber } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** Adam with PyTorch's defaults (the reference's optimizer for the robustness experiments). */
export interface AdamSpec {
  kind: 'adam';
  /** Default 1e-3. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Added to `√v̂` (as in PyTorch); default 1e-8. */
  epsilon?: number;
}

/** RMSprop with PyTorch's defaults (the reference's optimizer for the Wasserstein critics). */
export interface RmspropSpec {
  kind: 'rmsprop';
  /** Default 1e-2 (PyTorch's default). */
  learningRate?: number;
  /** Smoothing constant α (PyTorch `alpha`, tfjs `decay`); default 0.99. */
  alpha?: number;
  /** PyTorch's ε, default 1e-8; see {@link createOptimizer} for how it maps onto tfjs. */
  epsilon?: number;
  /** Default 0. */
  momentum?: number;
}

/** What {@link createOptimizer} builds; plain JSON, so it can be stored in `config.json` and checkpoints. */
export type OptimizerSpec = AdamSpec | RmspropSpec;

/** The two optimizer kinds. */
export const OPTIMIZER_KINDS = ['adam', 'rmsprop'] as const;

/** The spec with every default filled in. */
export function resolveOptimizerSpec(spec: OptimizerSpec): Required<AdamSpec> | Required<RmspropSpec> {
  if (spec == null || typeof spec !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `createOptimizer: spec must be an object like { kind: 'adam' }, got ${String(spec)}.`);
  }
  assertOneOf('createOptimizer', 'kind', spec.kind, OPTIMIZER_KINDS);
  if (spec.kind === 'adam') {
    const resolved = { kind: 'adam' as const, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...stripUndefined(spec) };
    assertPositiveNumber('createOptimizer', 'learningRate', resolved.learningRate);
    assertInRange('createOptimizer', 'beta1', resolved.beta1, 0, 1, { maxExclusive: true });
    assertInRange('createOptimizer', 'beta2', resolved.beta2, 0, 1, { maxExclusive: true });
    assertPositiveNumber('createOptimizer', 'epsilon', resolved.epsilon);
    return resolved;
  }
  const resolved = { kind: 'rmsprop' as const, learningRate: 1e-2, alpha: 0.99, epsilon: 1e-8, momentum: 0, ...stripUndefined(spec) };
  assertPositiveNumber('createOptimizer', 'learningRate', resolved.learningRate);
  assertInRange('createOptimizer', 'alpha', resolved.alpha, 0, 1, { maxExclusive: true });
  assertPositiveNumber('createOptimizer', 'epsilon', resolved.epsilon);
  assertInRange('createOptimizer', 'momentum', resolved.momentum, 0, 1, { maxExclusive: true });
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Builds a tfjs-core optimizer from a plain spec.
 *
 * - `adam`: `tf.train.adam(lr, β₁, β₂, ε)` with PyTorch's defaults (1e-3, 0.9, 0.999, 1e-8). tfjs's update
 *   `θ ← θ − lr·m̂/(√v̂ + ε)` is PyTorch's. (tfjs would otherwise default ε to the backend's 1e-7.)
 * - `rmsprop`: `tf.train.rmsprop(lr, α, momentum, ε²)` with PyTorch's defaults (1e-2, α = 0.99, ε = 1e-8,
 *   momentum 0). PyTorch divides by `√v + ε`, tfjs by `√(v + ε′)`; passing `ε′ = ε²` makes the two agree
 *   exactly when `v ≫ ε²` and within a factor √2 otherwise.
 *
 * The learning rate can be changed between steps by assigning `optimizer.learningRate` (what `train()` does
 * each epoch with its schedule).
 *
 * Ownership: the caller owns the optimizer and must `dispose()` it (it holds the moment variables).
 * Throws `INVALID_ARGUMENT` for an unknown kind or an out-of-range hyper-parameter.
 *
 * Reference: Kingma & Ba, "Adam" (ICLR 2015); Tieleman & Hinton, RMSprop (2012); the reference's use in
 * reference-bcop.md §8 (Adam) and §10 (RMSprop).
 *
 * @example
 * ```ts
 * const optimizer = createOptimizer({ kind: 'adam', learningRate: 1e-3 });
 * optimizer.minimize(() => loss(model.apply(x), y), false, model.trainableVariables);
 * optimizer.dispose();
 * ```
 */
export function createOptimizer(spec: OptimizerSpec): tf.Optimizer & { learningRate: number } {
  const resolved = resolveOptimizerSpec(spec);
  if (resolved.kind === 'adam') {
    return tf.train.adam(resolved.learningRate, resolved.beta1, resolved.beta2, resolved.epsilon) as unknown as tf.Optimizer & {
      learningRate: number;
    };
  }
  return tf.train.rmsprop(resolved.learningRate, resolved.alpha, resolved.momentum, resolved.epsilon ** 2) as unknown as tf.Optimizer & {
    learningRate: number;
  };
}
