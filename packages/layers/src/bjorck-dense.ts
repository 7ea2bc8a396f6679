import {
  LipschitzError,
  type ExportedLayer,
  SeededRandom,
  assertNotDisposed,
  assertPositiveInteger,
  encodeTensor,
} from '@lipschitz/core';
import type { OrthogonalizerSpec } from '@lipschitz/orthogonalize';
import {
  type Orthogonalization,
  type OrthogonalizationOptions,
  OrthogonalWeight,
  resolveOrthogonalization,
  withOrthogonalization,
} from './orthogonal-weight';
import * as tf from '@tensorflow/tfjs-core';
import { LayerBase, type LayerModule } from './layer-base';
import { boundOfExportedLayers } from './host-bound';
import { orthogonalTensor, uniformTensor } from './initializers';

/** Options of {@link bjorckDense}. */
export interface BjorckDenseOptions extends OrthogonalizationOptions {
  /** Input features (≥ 1). */
  inputs: number;
  /** Output features (≥ 1). */
  outputs: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default 0). */
  seed?: number;
}


/** Checks the shared part of dense options for `fn`. */
export function validateDenseOptions(fn: string, options: { inputs: number; outputs: number; bias?: boolean; seed?: number }): void {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object such as { inputs: 784, outputs: 10 }.`);
  }
  assertPositiveInteger(fn, 'inputs', options.inputs);
  assertPositiveInteger(fn, 'outputs', options.outputs);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(options.seed)}.`);
  }
  if (options.bias !== undefined && typeof options.bias !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bias must be a boolean, got ${String(options.bias)}.`);
  }
}

/** Shared dense behaviour: `y = x·W + b` with `W = kernels[0]` `[in, out]`, `b = kernels[1]`. */
export abstract class DenseLayerBase extends LayerBase {
  readonly inputs: number;
  readonly outputs: number;
  readonly useBias: boolean;

  constructor(type: string, options: { inputs: number; outputs: number; bias?: boolean }, name: string) {
    super(type, options, name);
    this.inputs = options.inputs;
    this.outputs = options.outputs;
    this.useBias = options.bias ?? true;
  }

  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    if (inputShape.length !== 1 || inputShape[0] !== this.inputs) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: expected input shape [batch, ${this.inputs}], got [batch, ${inputShape.join(', ')}]. Put flatten() before a dense layer.`,
      );
    }
  }

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const y = tf.matMul(x as tf.Tensor2D, kernels[0] as tf.Tensor2D);
    return kernels[1] ? tf.add(y, kernels[1]) : y;
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape(`${this.config.type}.outputShape`, inputShape);
    return [this.outputs];
  }

  /** Exact σ_max of the weight (float64 SVD on the host) times `1 + HOST_NORM_SLACK`, via `@lipschitz/model-format`. */
  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    this.checkInputShape(`${this.config.type}.lipschitzUpperBound`, inputShape);
    return this.boundCoveringTrainingForward(() => boundOfExportedLayers(this, inputShape));
  }

  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed(`${this.config.type}.exportLayers`, this.disposed);
    this.checkInputShape(`${this.config.type}.exportLayers`, inputShape);
    const [weight, bias] = await this.kernelValues();
    const layer: ExportedLayer = { type: 'dense', weight: encodeTensor([this.inputs, this.outputs], weight) };
    if (bias) layer.bias = encodeTensor([this.outputs], bias);
    return [layer];
  }
}

/** Björck-orthonormalized dense layer (see {@link bjorckDense}). */
export class BjorckDense extends DenseLayerBase {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  /** The weight and the scheme that keeps it orthogonal (option `orthogonalization`). */
  readonly orthogonalWeight: OrthogonalWeight;

  constructor(options: BjorckDenseOptions) {
    super('bjorckDense', options, `bjorckDense(${options.inputs}→${options.outputs})`);
    const seed = options.seed ?? 0;
    const rng = new SeededRandom(options.seed ?? 0);
    const { inputs, outputs } = options;
    const gain = 1 / Math.sqrt(inputs);
    this.weight = this.addVariable(orthogonalTensor(inputs, outputs, gain, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([outputs], gain, rng)) : null;
    this.orthogonalWeight = new OrthogonalWeight(this.weight, resolveOrthogonalization('bjorckDense', options), seed, options);
  }

  /** How the weight is kept orthogonal (see `ORTHOGONALIZATIONS`). */
  get orthogonalization(): Orthogonalization {
    return this.orthogonalWeight.orthogonalization;
  }

  /** The orthogonalizer (forward scheme, or the freeze-time projection of `'projected'`). */
  get orthogonalizer(): OrthogonalizerSpec {
    return this.orthogonalWeight.orthogonalizer;
  }

  /** Whether `afterStep` fully re-projects the weight (`orthogonalization: 'reprojected'`). */
  get reproject(): boolean {
    return this.orthogonalWeight.orthogonalization === 'reprojected';
  }

  /** The parameter matrices' orthogonal parameterisation: freezing, the read-back, the bound and disposal go through it. */
  protected override orthogonalParameters(): OrthogonalWeight {
    return this.orthogonalWeight;
  }

  protected override computeKernels(): tf.Tensor[] {
    const w = this.orthogonalWeight.matrix();
    return this.bias ? [w, this.bias] : [w];
  }

  /** Keeps the weight orthogonal after an optimizer step (see `OrthogonalWeight.afterStep`). */
  afterStep(step: number): void {
    assertNotDisposed('bjorckDense.afterStep', this.disposed);
    assertPositiveInteger('bjorckDense.afterStep', 'step', step);
    this.orthogonalWeight.afterStep(this);
  }

  /**
   * Re-projects the weight now, `w ← c·polar(w)` with `c = ‖w‖_F/√min(rows, cols)` (`scaledPolar`), in
   * place, outside any gradient tape, without reading anything back; the orthogonalized weight is
   * unchanged up to float32 rounding. Call it after assigning a weight that is not on the scaled manifold
   * to a layer that uses the reduced `REPROJECTED_BJORCK` (the initial weight already is).
   */
  reprojectParameters(): void {
    assertNotDisposed('bjorckDense.reprojectParameters', this.disposed);
    this.orthogonalWeight.reproject(this);
  }
}

/**
 * A dense layer whose weight is orthonormalized on every forward pass (reference `BjorckLinear`,
 * Anil, Lucas & Grosse 2019): `y = x · bjorck(W) + b` with `W` of shape `[inputs, outputs]` (the
 * transpose of PyTorch's layout). Björck: `W ← 1.5 W − 0.5 W WᵀW`, 20 iterations after scaling by a
 * power-iteration estimate of σ_max, so `bjorck(W)` has orthonormal columns (inputs ≥ outputs) or rows
 * (the reference; this layer computes the same polar factor by default with the `'projected'` scheme).
 *
 * Init (reference §3): orthogonal with gain 1/√inputs; bias U(−1/√inputs, 1/√inputs); seeded.
 *
 * Guarantee: orthogonal (σ = 1) when inputs = outputs, otherwise a (co-)isometry, hence 1-Lipschitz
 * up to Björck's convergence; `lipschitzUpperBound` is the exact σ_max of the weight actually used
 * (float64 SVD of the orthonormalized float32 weight), so it is sound whatever the convergence.
 *
 * Kernel caching: `freeze()` orthonormalizes once and `apply` reuses it (one matMul); `unfreeze()`
 * before training — gradients do not reach the variables of a frozen layer.
 *
 * Orthogonalization (option `orthogonalization`): `'projected'` by default (issue 14: the weight is kept
 * orthogonal by a Newton–Schulz retraction in `afterStep`, the forward pass rescales it with the polar
 * factor's gradient), `'unrolled'` (the Björck-20 above in every forward pass; `REFERENCE_BJORCK` for the
 * literal reference) or `'reprojected'` (`reproject: true`); see `bcopConv2d`.
 *
 * Ownership: owns its variables (`dispose()`); `apply` borrows `x` `[batch, inputs]` and returns a new
 * tensor. Throws `INVALID_ARGUMENT` on bad options, `SHAPE_MISMATCH` on a wrong input shape.
 *
 * @example
 * ```ts
 * const dense = bjorckDense({ inputs: 784, outputs: 10, seed: 1 });
 * const logits = dense.apply(tf.zeros([32, 784])); // [32, 10]
 * ```
 * @see C. Anil, J. Lucas, R. Grosse, "Sorting out Lipschitz function approximation", ICML 2019;
 *   Å. Björck, C. Bowie, "An iterative algorithm for computing the best estimate of an orthogonal matrix", 1971.
 */
export function bjorckDense(options: BjorckDenseOptions): LayerModule {
  validateDenseOptions('bjorckDense', options);
  const orthogonalization = resolveOrthogonalization('bjorckDense', options);
  return new BjorckDense(withOrthogonalization(options, orthogonalization));
}
