/** The base class of the modules of this package and the module contract (`LayerModule`); see `authoring.ts`. */
import {
  type ExportedLayer,
  type LipschitzModule,
  assertNotDisposed,
} from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { OrthogonalWeight } from './orthogonal-weight';

/** The JSON description of a module: a factory name and the options it was called with. */
export interface LayerConfig {
  type: string;
  options: Record<string, unknown>;
}

/**
 * A module of this package: a {@link LipschitzModule} that can also be rebuilt from its `config` and
 * saved (`variables`).
 */
export interface LayerModule extends LipschitzModule {
  /** JSON that rebuilds this module (same architecture, fresh variables) with `layerFromConfig`. */
  readonly config: LayerConfig;
  /**
   * Every variable that defines the module's state: per layer, its `trainableVariables` then its
   * `stateVariables`. `saveModel` writes these, in this order.
   */
  readonly variables: tf.Variable[];
}

/**
 * Base class of the modules in this package. Tracks variables, the frozen kernel cache and disposal.
 *
 * Subclasses implement `computeKernels()` (derived tensors from the variables, differentiable; runs
 * inside `tf.tidy`) and `forward(x, kernels)`. While frozen, `apply` reuses the cached kernels.
 */
export abstract class LayerBase implements LayerModule {
  readonly config: LayerConfig;
  readonly name: string;
  private readonly trainable: tf.Variable[] = [];
  private readonly state: tf.Variable[] = [];
  private cache: tf.Tensor[] | null = null;
  protected disposed = false;

  constructor(type: string, options: object, name: string) {
    this.config = { type, options: { ...(options as Record<string, unknown>) } };
    this.name = name;
  }

  /** Registers a trainable variable initialised from `initial` (taken: it is disposed). */
  protected addVariable(initial: tf.Tensor): tf.Variable {
    const v = tf.variable(initial, true);
    initial.dispose();
    this.trainable.push(v);
    return v;
  }

  /** Registers a non-trainable state variable (saved, not trained) from `initial` (taken). */
  protected addState(initial: tf.Tensor): tf.Variable {
    const v = tf.variable(initial, false);
    initial.dispose();
    this.state.push(v);
    return v;
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.trainable];
  }

  get stateVariables(): tf.Variable[] {
    return [...this.state];
  }

  get variables(): tf.Variable[] {
    return [...this.trainable, ...this.state];
  }

  get frozen(): boolean {
    return this.cache !== null;
  }

  /** Derived tensors (kernels) from the variables; differentiable; called inside `tf.tidy`. */
  protected computeKernels(): tf.Tensor[] {
    return [];
  }

  /** The forward pass given the kernels from `computeKernels` (or the frozen cache). */
  protected abstract forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor;

  /** Checks the input shape (without the batch axis) for `fn`; throws `SHAPE_MISMATCH`. */
  protected abstract checkInputShape(fn: string, inputShape: readonly number[]): void;

  abstract outputShape(inputShape: readonly number[]): number[];

  abstract lipschitzUpperBound(inputShape: readonly number[]): Promise<number>;

  abstract exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]>;

  apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed(`${this.config.type}.apply`, this.disposed);
    this.checkInputShape(`${this.config.type}.apply`, x.shape.slice(1));
    return tf.tidy(() => this.forward(x, this.cache ?? this.computeKernels()));
  }

  /**
   * The parameterisation that keeps this layer's weights orthogonal (`OrthogonalWeight`: BCOP, RKO, Björck dense), or
   * null (the default). With one, `freeze` and the kernel read-back orthogonalize fully (`OrthogonalWeight.exactly`),
   * the bounds cover the training forward while unfrozen ({@link boundCoveringTrainingForward}) and `dispose`
   * releases it — once, here, for every such layer.
   */
  protected orthogonalParameters(): OrthogonalWeight | null {
    return null;
  }

  /**
   * `bound()` — the exact bound of the exported kernels — or, for an unfrozen layer with `'projected'` orthogonal
   * parameters, the larger of that and the training forward's bound (`OrthogonalWeight.boundCoveringTrainingForward`),
   * so that `lipschitzUpperBound` bounds `apply` frozen or not. `bound` must build its kernels before its first `await`.
   */
  protected boundCoveringTrainingForward(bound: () => Promise<number>): Promise<number> {
    const weight = this.orthogonalParameters();
    return weight ? weight.boundCoveringTrainingForward(this.frozen, bound) : bound();
  }

  freeze(): void {
    assertNotDisposed(`${this.config.type}.freeze`, this.disposed);
    if (this.cache !== null) return;
    // Cloned so that a kernel that is a variable itself (e.g. a bias) is never disposed by unfreeze().
    // Call freeze() outside gradient tapes (training loops unfreeze before a step).
    // Kept, so that freezing inside a caller's tf.tidy does not dispose the cache when that tidy ends.
    const build = () => {
      this.cache = tf.tidy(() => this.computeKernels().map((k) => tf.clone(k))).map((k) => tf.keep(k));
    };
    const weight = this.orthogonalParameters();
    if (weight) weight.exactly(build);
    else build();
  }

  unfreeze(): void {
    if (this.cache === null) return;
    for (const t of this.cache) t.dispose();
    this.cache = null;
  }

  /**
   * Host float32 copies of the kernels (the frozen cache when frozen, else computed once), in the
   * order of `computeKernels()`.
   */
  protected kernelValues(): Promise<Float32Array[]> {
    const read = async (): Promise<Float32Array[]> => {
      const cached = this.cache;
      // Cloned: computeKernels may return a variable itself (a bias), which must not be disposed here.
      const kernels = cached ?? tf.tidy(() => this.computeKernels().map((k) => tf.clone(k)));
      try {
        return (await Promise.all(kernels.map((k) => k.data()))) as Float32Array[];
      } finally {
        if (!cached) for (const k of kernels) k.dispose();
      }
    };
    // The kernels are built before read's first await, so inside `exactly` (fully orthogonalized).
    const weight = this.orthogonalParameters();
    return weight ? weight.exactly(read) : read();
  }

  dispose(): void {
    if (this.disposed) return;
    this.orthogonalParameters()?.dispose();
    this.unfreeze();
    for (const v of [...this.trainable, ...this.state]) v.dispose();
    this.disposed = true;
  }
}
