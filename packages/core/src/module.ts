import type * as tf from '@tensorflow/tfjs-core';
import type { ExportedLayer } from './model-format';

/**
 * Where a training step falls in its epoch, passed to {@link LipschitzModule.afterStep} by loops that
 * go through epochs (e.g. `@lipschitz/train`'s `train`). The reference's trainer uses both: SVCM projects
 * when `batch_idx % 100 == 0` and at the last batch of every epoch (`lconvnet/experiment/trainer.py`).
 */
export interface StepContext {
  /** 0-based index of the batch just trained on, within its epoch. */
  batchInEpoch: number;
  /** True for the last batch of the epoch (just before the epoch's evaluation). */
  lastInEpoch: boolean;
}

/**
 * JSON that describes a module's architecture: the factory that builds it and the options it was called with
 * (`@lipschitz/layers`' `layerFromConfig` rebuilds a module from it). Checkpoints store it and refuse to
 * restore into a module whose configuration differs.
 */
export interface ModuleConfig {
  type: string;
  options: Record<string, unknown>;
}

/**
 * The contract every Lipschitz layer and model (`@lipschitz/layers`) implements, and the only thing
 * `@lipschitz/train`, `@lipschitz/certify` and `@lipschitz/wasserstein` rely on.
 *
 * Ownership: `apply` borrows its input and returns a tensor owned by the caller. A module owns its
 * `tf.Variable`s and releases them in `dispose()` (idempotent).
 */
export interface LipschitzModule {
  /** A short human-readable name, e.g. `bcopConv2d(16→32, k=4, s=2)`. */
  readonly name: string;
  /**
   * Forward pass on an NHWC (or `[batch, features]`) tensor. Unfrozen: every derived kernel is rebuilt
   * from the parameters, so the result is differentiable with respect to `trainableVariables`.
   * Frozen: cached kernels are reused (inference costs the same as plain convolutions).
   */
  apply(x: tf.Tensor): tf.Tensor;
  /** The variables an optimizer updates. */
  readonly trainableVariables: tf.Variable[];
  /**
   * Non-trainable state that the forward pass depends on and that training updates outside the optimizer
   * (e.g. OSSN's power-iteration vector `u` and its spectral-norm factor; `[]` for most modules). Part of
   * the model's state: checkpoints and saved models store it with the trainable variables, so a restored
   * model computes exactly the function that was trained and a resumed run continues bit for bit.
   */
  readonly stateVariables: tf.Variable[];
  /**
   * The module's architecture as JSON, when it has one (every module of `@lipschitz/layers` does).
   * Checkpoints store it and refuse to restore into a module built with another configuration.
   */
  readonly config?: ModuleConfig;
  /** Computes and caches every derived kernel; idempotent. */
  freeze(): void;
  /** Drops cached kernels; the next `apply` rebuilds them from the parameters. */
  unfreeze(): void;
  /** True between `freeze()` and `unfreeze()`. */
  readonly frozen: boolean;
  /**
   * Called by training loops after every optimizer step (`step` counts from 1), outside any gradient
   * tape: e.g. SVCM's periodic projection or OSSN's power-iteration update. Loops that go through
   * epochs pass `context` (where the step falls in its epoch); callers without epochs may omit it.
   */
  afterStep?(step: number, context?: StepContext): void | Promise<void>;
  /**
   * A sound upper bound on the ℓ2 Lipschitz constant for inputs of shape `inputShape` (without the
   * batch axis), computed on the host in float64 from the exact per-layer spectral norms.
   */
  lipschitzUpperBound(inputShape: readonly number[]): Promise<number>;
  /** The module as plain `lipschitz-model/1` layers (explicit kernels), for inputs of `inputShape`. */
  exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]>;
  /** The output shape (without the batch axis) for an input of `inputShape`. */
  outputShape(inputShape: readonly number[]): number[];
  /** Releases every tensor this module owns; idempotent. */
  dispose(): void;
}
