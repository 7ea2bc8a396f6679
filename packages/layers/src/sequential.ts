import { LipschitzError, type ExportedLayer, type StepContext, assertNotDisposed } from '@lipschitz/core';
import { networkLipschitzUpperBound } from '@lipschitz/model-format';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerConfig, LayerModule } from './layer-base';

/** A chain of modules (see {@link sequential}). */
export class Sequential implements LayerModule {
  readonly name: string;
  readonly layers: readonly LayerModule[];
  private disposed = false;

  constructor(layers: readonly LayerModule[], name = 'sequential') {
    this.layers = [...layers];
    this.name = name;
  }

  get config(): LayerConfig {
    return { type: 'sequential', options: { layers: this.layers.map((l) => l.config), name: this.name } };
  }

  get trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.trainableVariables);
  }

  get stateVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.stateVariables);
  }

  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => l.variables);
  }

  /** True when every child is frozen. */
  get frozen(): boolean {
    return this.layers.every((l) => l.frozen);
  }

  apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed('sequential.apply', this.disposed);
    return tf.tidy(() => {
      let y = x;
      for (const layer of this.layers) y = layer.apply(y);
      return y === x ? tf.clone(x) : y;
    });
  }

  freeze(): void {
    assertNotDisposed('sequential.freeze', this.disposed);
    for (const l of this.layers) l.freeze();
  }

  unfreeze(): void {
    for (const l of this.layers) l.unfreeze();
  }

  async afterStep(step: number, context?: StepContext): Promise<void> {
    for (const l of this.layers) await l.afterStep?.(step, context);
  }

  /** The input shape of every child for an input of `inputShape` (without the batch axis). */
  inputShapes(inputShape: readonly number[]): number[][] {
    const shapes: number[][] = [];
    let shape = [...inputShape];
    for (const l of this.layers) {
      shapes.push(shape);
      shape = l.outputShape(shape);
    }
    return shapes;
  }

  outputShape(inputShape: readonly number[]): number[] {
    let shape = [...inputShape];
    for (const l of this.layers) shape = l.outputShape(shape);
    return shape;
  }

  /**
   * The bound of the exact-arithmetic map: `networkLipschitzUpperBound(exportLayers(inputShape)).lipschitzUpperBound`
   * of `@lipschitz/model-format` — the product of the exact float64 per-layer norms, each × (1 + 1e-12),
   * computed by the same code as every other bound: the same quantity as
   * `moduleLipschitzBound(model, inputShape).lipschitzUpperBound`, which `exportModel` writes into the file
   * and the default certificates use (pass the whole `bound` object to `certify`). It does **not** include
   * the float32 safety factor of the old rule (`assumedFloat32Bound`). When a child cannot be
   * exported (`UNSUPPORTED_CONFIGURATION`, e.g. `upsampleNearest`), the product of the children's bounds.
   */
  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed('sequential.lipschitzUpperBound', this.disposed);
    let layers: ExportedLayer[];
    try {
      layers = await this.exportLayers(inputShape);
    } catch (error) {
      if (!(LipschitzError.isInstance(error) && error.code === 'UNSUPPORTED_CONFIGURATION')) throw error;
      const bounds = await this.layerBounds(inputShape);
      return bounds.reduce((a, b) => a * b, 1);
    }
    return networkLipschitzUpperBound({ input: { shape: inputShape }, layers }).lipschitzUpperBound;
  }

  /** Each child's sound bound at its own input shape, in order. */
  async layerBounds(inputShape: readonly number[]): Promise<number[]> {
    assertNotDisposed('sequential.layerBounds', this.disposed);
    const shapes = this.inputShapes(inputShape);
    const bounds: number[] = [];
    for (let i = 0; i < this.layers.length; i++) bounds.push(await this.layers[i].lipschitzUpperBound(shapes[i]));
    return bounds;
  }

  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('sequential.exportLayers', this.disposed);
    const shapes = this.inputShapes(inputShape);
    const out: ExportedLayer[] = [];
    for (let i = 0; i < this.layers.length; i++) out.push(...(await this.layers[i].exportLayers(shapes[i])));
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const l of this.layers) l.dispose();
    this.disposed = true;
  }
}

/**
 * A sequential container: `apply(x) = f_n(…f_2(f_1(x)))`. It takes ownership of its children
 * (`dispose()` disposes them). `lipschitzUpperBound(inputShape)` is the exact-arithmetic bound of its
 * exported layers (`@lipschitz/model-format`; the certificate bound, with the float32 safety factor, is
 * `moduleLipschitzBound`); `exportLayers` concatenates the children's.
 *
 * Throws `INVALID_ARGUMENT` when `layers` is not an array of modules.
 *
 * @example
 * ```ts
 * const net = sequential([flatten(), bjorckDense({ inputs: 784, outputs: 10 })]);
 * const bound = await net.lipschitzUpperBound([28, 28, 1]); // ≈ 1
 * ```
 */
export function sequential(layers: readonly LayerModule[], options: { name?: string } = {}): Sequential {
  if (!Array.isArray(layers) || layers.some((l) => l == null || typeof l.apply !== 'function' || l.config == null)) {
    throw new LipschitzError('INVALID_ARGUMENT', 'sequential: layers must be an array of modules from @lipschitz/layers (each with apply and config).');
  }
  return new Sequential(layers, options.name);
}
