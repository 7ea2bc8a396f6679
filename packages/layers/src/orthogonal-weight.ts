import { LipschitzError, assertOneOf, assertPositiveInteger } from '@lipschitz/core';
import {
  type OrthogonalizerSpec,
  newtonSchulzRetraction,
  orthogonalize,
  scaledPolar,
  stiefelRescale,
} from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import { defaultOrthogonalizer, reprojectedOrthogonalizer } from './orthogonalizer';

/**
 * How a layer keeps its parameter matrices orthogonal (option `orthogonalization` of `bcopConv2d`,
 * `rkoConv2d`, `bjorckDense` and the model builders):
 * - `'projected'` (the default, issue 14): the parameter itself is kept on the scaled orthogonal manifold
 *   `{c·Q : QᵀQ = I}`. The differentiated forward pass only rescales it, `Q = W / c` with
 *   `c = ‖W‖_F/√min(m, n)` (as cheap as an unconstrained layer), and its gradient is the tangent-space
 *   projection `(G − Q sym(QᵀG)) / c` (`stiefelRescale` of `@lipschitz/orthogonalize`) — exactly the value
 *   and the gradient of the reference's converged Björck (the polar factor) at that point. After every
 *   optimizer step a Newton–Schulz retraction (`newtonSchulzRetraction`, {@link PROJECTED_RETRACTION_STEPS}
 *   steps on the Gram side, nothing read back) moves `W` back onto the manifold. Training is Riemannian
 *   (projected) gradient descent on the Stiefel manifold.
 *   Freezing and exporting orthogonalize `W` fully (`orthogonalizer`, default the reference's Björck-20 in the
 *   Gram form, which leaves a parameter already on the manifold unchanged to float32 rounding), so exported
 *   kernels are orthogonal to float32 precision whatever the retraction left.
 * - `'reprojected'` (= `reproject: true`, issue 10): full re-projection (`scaledPolar`, 7 polar-express
 *   steps) after every step, and one differentiated Björck step in the forward pass.
 * - `'unrolled'`: the orthogonalizer (default: the reference's Björck-20 in the Gram form; pass
 *   `REFERENCE_BJORCK` for the literal reference) runs, differentiated, in every forward pass, as the
 *   reference does; nothing happens after a step.
 *
 * Certificates never depend on the choice: bounds and certification use exact float64 singular values
 * of the kernels actually exported.
 */
export const ORTHOGONALIZATIONS = ['projected', 'reprojected', 'unrolled'] as const;
/** See {@link ORTHOGONALIZATIONS}. */
export type Orthogonalization = (typeof ORTHOGONALIZATIONS)[number];

/** The orthogonalization-related options shared by `bcopConv2d`, `rkoConv2d` and `bjorckDense`. */
export interface OrthogonalizationOptions {
  /**
   * How the parameter matrices are kept orthogonal (see {@link ORTHOGONALIZATIONS}). Default:
   * `'reprojected'` with `reproject: true`, `'unrolled'` when only `orthogonalizer` is given, else
   * `'projected'`. Written into the layer's config, so saved models rebuild the same scheme.
   */
  orthogonalization?: Orthogonalization;
  /**
   * The orthogonalizer: with `'unrolled'` / `'reprojected'` the differentiated forward scheme (default
   * Björck-20 in the Gram form / `REPROJECTED_BJORCK`); with `'projected'` the full projection used when
   * freezing and exporting (default: Björck-20 in the Gram form).
   */
  orthogonalizer?: OrthogonalizerSpec;
  /** Same as `orthogonalization: 'reprojected'` (issue 10's option; kept for saved configs). */
  reproject?: boolean;
  /**
   * Newton–Schulz steps of the `'projected'` retraction after every optimizer step (default
   * {@link PROJECTED_RETRACTION_STEPS} = 2; only with `'projected'`). One step costs two `m·n²` products and no
   * `n³` work, where two cost `2·m·n² + 3·n³`: ~2.5× less for a square weight such as FC-3's 1024 × 1024 (FC-3's
   * whole training step: 1.40× faster, `bench/results/retraction-steps.json`). Near the manifold it takes a drift δ
   * to ~1.5δ² instead of ~1.5(1.5δ²)²; far from it (the first Adam steps of wide weights at a small initial scale)
   * both converge more slowly and one step leaves more (FC-3: 0.24 at step 30 vs 0.002 with two). Exported kernels
   * are fully projected either way (certificates do not depend on it); the training forward's bound covers what is
   * left. Written into the layer's config.
   */
  retractionSteps?: number;
}

/**
 * @internal Resolves a layer's scheme from its options (see {@link OrthogonalizationOptions}); throws
 * `INVALID_ARGUMENT` on a bad value or on `reproject: true` with another `orthogonalization`.
 */
export function resolveOrthogonalization(fn: string, options: OrthogonalizationOptions | undefined): Orthogonalization {
  const reproject = options?.reproject;
  if (reproject !== undefined && typeof reproject !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: reproject must be a boolean, got ${String(reproject)}.`);
  }
  const spec = options?.orthogonalizer;
  if (spec !== undefined && (spec === null || typeof spec !== 'object')) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: orthogonalizer must be an OrthogonalizerSpec object from @lipschitz/orthogonalize.`);
  }
  const mode = options?.orthogonalization;
  let resolved: Orthogonalization;
  if (mode === undefined) resolved = reproject ? 'reprojected' : spec ? 'unrolled' : 'projected';
  else {
    assertOneOf(fn, 'orthogonalization', mode, ORTHOGONALIZATIONS);
    if (reproject && mode !== 'reprojected') {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: reproject: true contradicts orthogonalization '${mode}'; pass one of them.`);
    }
    resolved = mode;
  }
  const steps = options?.retractionSteps;
  if (steps !== undefined) {
    assertPositiveInteger(fn, 'retractionSteps', steps);
    if (resolved !== 'projected') {
      throw new LipschitzError(
        'INVALID_ARGUMENT',
        `${fn}: retractionSteps applies to orthogonalization 'projected' only (this layer is '${resolved}'); leave it out or use 'projected'.`,
      );
    }
  }
  return resolved;
}

/**
 * Newton–Schulz steps of the `'projected'` retraction after every optimizer step: a fixed count, so that training
 * is deterministic and resumes bit for bit (no state outside the saved variables). Two steps take a drift δ to
 * ~1.5(1.5δ²)² (2% → 5e-7); a larger early drift is finished by the next steps' retractions.
 */
export const PROJECTED_RETRACTION_STEPS = 2;

/** @internal `options` with the resolved scheme written in (so the layer's config rebuilds it); non-objects pass through for the factory's own validation. */
export function withOrthogonalization<T extends object>(options: T, orthogonalization: Orthogonalization): T {
  return options == null || typeof options !== 'object' ? options : { ...options, orthogonalization };
}

/** The frozen/unfrozen kernel cache of the layer that holds an {@link OrthogonalWeight}. */
export interface KernelCache {
  readonly frozen: boolean;
  freeze(): void;
  unfreeze(): void;
}

/**
 * A parameter matrix (batch, last two axes) and the scheme that keeps it orthogonal: the one
 * piece of the re-projection logic that `bcopConv2d`, `rkoConv2d` and `bjorckDense` hold (see
 * {@link ORTHOGONALIZATIONS}).
 *
 * Ownership: borrows `variable` (the layer owns and disposes it); holds no tensors of its own.
 */
export class OrthogonalWeight {
  readonly orthogonalization: Orthogonalization;
  /** See {@link OrthogonalizationOptions.orthogonalizer} (resolved per mode). */
  readonly orthogonalizer: OrthogonalizerSpec;
  /** Newton–Schulz steps of the `'projected'` retraction ({@link OrthogonalizationOptions.retractionSteps}). */
  readonly retractionSteps: number;
  private exact = false;
  private trainingForward = false;

  constructor(
    readonly variable: tf.Variable,
    orthogonalization: Orthogonalization,
    seed: number,
    options: { orthogonalizer?: OrthogonalizerSpec; iterations?: number; retractionSteps?: number },
  ) {
    this.orthogonalization = orthogonalization;
    this.retractionSteps = options.retractionSteps ?? PROJECTED_RETRACTION_STEPS;
    if (orthogonalization === 'projected') this.orthogonalizer = options.orthogonalizer ?? defaultOrthogonalizer(seed, options.iterations ?? 20);
    else if (orthogonalization === 'reprojected') this.orthogonalizer = options.orthogonalizer ?? reprojectedOrthogonalizer(seed, options.iterations);
    else this.orthogonalizer = options.orthogonalizer ?? defaultOrthogonalizer(seed, options.iterations ?? 20);
  }

  /**
   * The orthogonal matrix (batch) for the layer's kernels, differentiable. `'projected'`: `W/c` while
   * training, the full projection inside {@link OrthogonalWeight.exactly}; else the orthogonalizer.
   */
  matrix(): tf.Tensor {
    if (this.orthogonalization !== 'projected' || this.exact) return orthogonalize(this.variable, this.orthogonalizer);
    return stiefelRescale(this.variable);
  }

  /** Runs `body` (which builds kernels synchronously: freeze, export) with the full projection. */
  exactly<T>(body: () => T): T {
    this.exact = !this.trainingForward;
    try {
      return body();
    } finally {
      this.exact = false;
    }
  }

  /**
   * A Lipschitz upper bound on every function the layer computes. `bound` bounds the exported kernels (the
   * frozen function). An unfrozen `'projected'` layer computes another function, the training forward `W/c`,
   * which differs from the exported one by what the retraction left off the manifold (float32 rounding after
   * training; anything after a manual edit of the weights): there `bound` is evaluated a second time with the
   * training forward's kernels and the larger of the two is returned, so `layer.lipschitzUpperBound(shape)`
   * bounds `layer.apply` frozen or not. `bound` must build its kernels synchronously (before its first
   * `await`), as `exportLayers` does.
   */
  async boundCoveringTrainingForward(frozen: boolean, bound: () => Promise<number>): Promise<number> {
    const exported = await bound();
    if (frozen || this.orthogonalization !== 'projected') return exported;
    this.trainingForward = true;
    let training: Promise<number>;
    try {
      training = bound();
    } finally {
      this.trainingForward = false;
    }
    return Math.max(exported, await training);
  }

  /**
   * After an optimizer step: `'projected'` retracts (Newton–Schulz, {@link OrthogonalWeight.retractionSteps}
   * steps, default {@link PROJECTED_RETRACTION_STEPS}), `'reprojected'` re-projects fully, `'unrolled'` does nothing. A frozen layer's
   * kernels are rebuilt. Call outside gradient tapes.
   */
  afterStep(layer: KernelCache): void {
    if (this.orthogonalization === 'unrolled') return;
    if (this.orthogonalization === 'reprojected') {
      this.reproject(layer);
      return;
    }
    tf.tidy(() => {
      const { value, drift } = newtonSchulzRetraction(this.variable, { steps: this.retractionSteps });
      drift.dispose();
      this.variable.assign(value);
    });
    this.refreeze(layer);
  }

  /** Re-projects fully now, `W ← c·polar(W)` (`scaledPolar`), in place; a frozen layer's kernels are rebuilt. */
  reproject(layer: KernelCache): void {
    tf.tidy(() => {
      this.variable.assign(scaledPolar(this.variable));
    });
    this.refreeze(layer);
  }

  private refreeze(layer: KernelCache): void {
    if (layer.frozen) {
      layer.unfreeze();
      layer.freeze();
    }
  }

  /** Nothing to free (the variable belongs to the layer); kept so that layers can release their helper uniformly. */
  dispose(): void {}
}
