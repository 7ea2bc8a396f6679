import { LipschitzError } from '@lipschitz/core';
import { scaledPolar } from '@lipschitz/orthogonalize';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** The constructor arguments of every tfjs layer (`name`, `inputShape`, `trainable`, …). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** A tfjs layer weight (`LayerVariable`), as `addWeight` returns it. */
export type LayerWeight = tfl.LayerVariable;

/** The host values of a layer's derived linear operator, as {@link LipschitzLayer.kernelValues} returns them. */
export interface KernelValues {
  /** The operator's weight (HWIO conv kernel or `[in, out]` dense weight), row-major float32. */
  kernel: Float32Array;
  /** Its shape. */
  shape: number[];
  /** The bias, when the layer has one. */
  bias?: Float32Array;
}

/** The `training` flag tfjs passes to `call` (true inside `model.fit`, absent or false in `predict`). */
export function isTraining(kwargs: unknown): boolean {
  return (kwargs as { training?: boolean } | undefined)?.training === true;
}

/** One value of a tfjs input shape, or throws `SHAPE_MISMATCH` for `fn` when it is unknown. */
export function knownDim(fn: string, shape: readonly (number | null)[], axis: number, what: string): number {
  const d = shape[axis];
  if (d == null || !Number.isInteger(d) || d <= 0) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the input's ${what} must be known, got input shape [${shape.join(', ')}]. Give the first layer an inputShape.`);
  }
  return d;
}

/** The single input shape tfjs passes to `build`/`computeOutputShape`, or throws for several inputs. */
export function singleShape(fn: string, inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
  if (Array.isArray(inputShape[0])) {
    if (inputShape.length !== 1) throw new LipschitzError('SHAPE_MISMATCH', `${fn}: takes one input, got ${inputShape.length}.`);
    return inputShape[0] as tfl.Shape;
  }
  return inputShape as tfl.Shape;
}

/** The single input tensor tfjs passes to `call`. */
export function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/**
 * Base class of the layers of this package whose weights define a linear operator through a
 * differentiable map (BCOP, RKO, Björck dense): subclasses implement `computeKernels()` (the kernel
 * and bias from the weights, with differentiable tfjs ops) and `forward(x, kernels)`.
 *
 * Eval-time kernel caching: when tfjs calls the layer outside training (`model.predict`,
 * `model.evaluate`, `model.apply(x)`), the kernels are computed once and reused until a weight
 * changes (the optimizer's update, `setWeights`, re-projection, loading all assign new data to the
 * weight variables, which the cache notices), so `predict` costs a plain convolution. Inside
 * `model.fit` (`training: true`) they are recomputed on every call so gradients reach the weights.
 * A custom loop that differentiates through the layer must call it with `{ training: true }`.
 *
 * Re-projection: a layer created with `reproject: true` moves its orthogonalized weights back onto the
 * scaled orthogonal manifold in {@link LipschitzLayer.afterBatch}, which {@link lipschitzCallback}
 * calls after every optimizer step.
 */
export abstract class LipschitzLayer extends tfl.layers.Layer {
  private cache: { ids: object[]; kernels: tf.Tensor[] } | null = null;

  /** The kernels (differentiable) from the current weights. Called inside `tf.tidy`. */
  protected abstract computeKernels(): tf.Tensor[];

  /** The layer's output from its (borrowed) input and kernels. Called inside `tf.tidy`. */
  protected abstract forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor;

  /** The weights re-projected by {@link LipschitzLayer.afterBatch} (empty: nothing to do). */
  protected reprojectedWeights(): LayerWeight[] {
    return [];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = singleInput(inputs);
      return this.forward(x, isTraining(kwargs) ? this.computeKernels() : this.cachedKernels());
    });
  }

  /** The kernels for inference: computed once per weight version, kept until a weight changes. */
  protected cachedKernels(): tf.Tensor[] {
    const ids = this.weights.map((w) => w.read().dataId as object);
    const cache = this.cache;
    if (cache && cache.ids.length === ids.length && cache.ids.every((id, i) => id === ids[i])) return cache.kernels;
    this.releaseCache();
    // Cloned so that a kernel that is a weight itself (a bias) is never disposed with the cache.
    const kernels = tf.tidy(() => this.computeKernels().map((k) => tf.clone(k)));
    for (const k of kernels) tf.keep(k);
    this.cache = { ids, kernels };
    return kernels;
  }

  private releaseCache(): void {
    if (this.cache) for (const k of this.cache.kernels) k.dispose();
    this.cache = null;
  }

  /**
   * Host float32 copies of the kernel and bias the layer applies now (the inference kernels), for the
   * exact bound and the `lipschitz-model/1` conversion. The layer must be built.
   */
  async kernelValues(): Promise<KernelValues> {
    if (!this.built) {
      throw new LipschitzError('INVALID_ARGUMENT', `${this.getClassName()}.kernelValues: the layer '${this.name}' is not built yet. Call the model (or model.build) first.`);
    }
    const [kernel, bias] = this.cachedKernels();
    const values: KernelValues = { kernel: (await kernel.data()) as Float32Array, shape: [...kernel.shape] };
    if (bias) values.bias = (await bias.data()) as Float32Array;
    return values;
  }

  /**
   * Re-projects the weights of a layer created with `reproject: true` (`w ← ‖w‖_F/√min(m, n) · polar(w)`
   * per matrix, `scaledPolar` of `@lipschitz/orthogonalize`): the layer's function is unchanged, and its
   * reduced orthogonalizer stays exact. Outside any gradient tape; reads nothing back. {@link lipschitzCallback}
   * calls it after every optimizer step; a custom loop calls it after each `optimizer.minimize`.
   */
  afterBatch(): void {
    for (const w of this.reprojectedWeights()) {
      tf.tidy(() => {
        w.write(scaledPolar(w.read()));
      });
    }
  }

  protected override disposeWeights(): number {
    this.releaseCache();
    return super.disposeWeights();
  }
}
