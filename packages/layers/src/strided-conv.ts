import { type ExportedLayer, LipschitzError, type StepContext, assertNotDisposed } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { invertibleDownsample } from '@lipschitz/blockconv';
import { type ConvLayerOptions, assertNhwc, validateConvOptions } from './conv-options';
import type { LayerConfig, LayerModule } from './layer-base';

/**
 * A strided convolution done as in the reference's `LipschitzConv2d`: invertible downsampling
 * (NHWC space-to-depth, a permutation, so norm 1) by `stride`, then a stride-1 inner convolution.
 */
export class StridedConv implements LayerModule {
  readonly config: LayerConfig;
  readonly name: string;
  readonly stride: number;
  readonly inner: LayerModule;
  readonly inChannels: number;
  private disposed = false;

  constructor(type: string, options: ConvLayerOptions, inner: LayerModule) {
    this.config = { type, options: { ...options } as Record<string, unknown> };
    this.stride = options.stride ?? 1;
    this.inner = inner;
    this.inChannels = options.inChannels;
    this.name = `${type}(${options.inChannels}→${options.outChannels}, k=${options.kernelSize}, s=${this.stride})`;
  }

  private innerShape(fn: string, inputShape: readonly number[]): number[] {
    assertNhwc(fn, inputShape, this.inChannels);
    const s = this.stride;
    if (inputShape[0] % s !== 0 || inputShape[1] % s !== 0) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: the input height and width (${inputShape[0]}×${inputShape[1]}) must be multiples of the stride ${s}. Resize or crop the input.`,
      );
    }
    return [inputShape[0] / s, inputShape[1] / s, inputShape[2] * s * s];
  }

  get trainableVariables(): tf.Variable[] {
    return this.inner.trainableVariables;
  }
  get stateVariables(): tf.Variable[] {
    return this.inner.stateVariables;
  }
  get variables(): tf.Variable[] {
    return this.inner.variables;
  }
  get frozen(): boolean {
    return this.inner.frozen;
  }

  apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed(`${this.config.type}.apply`, this.disposed);
    this.innerShape(`${this.config.type}.apply`, x.shape.slice(1));
    return tf.tidy(() => this.inner.apply(invertibleDownsample(x as tf.Tensor4D, this.stride)));
  }
  freeze(): void {
    this.inner.freeze();
  }
  unfreeze(): void {
    this.inner.unfreeze();
  }
  afterStep(step: number, context?: StepContext): void | Promise<void> {
    return this.inner.afterStep?.(step, context);
  }
  outputShape(inputShape: readonly number[]): number[] {
    return this.inner.outputShape(this.innerShape(`${this.config.type}.outputShape`, inputShape));
  }
  lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    return this.inner.lipschitzUpperBound(this.innerShape(`${this.config.type}.lipschitzUpperBound`, inputShape));
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed(`${this.config.type}.exportLayers`, this.disposed);
    const inner = await this.inner.exportLayers(this.innerShape(`${this.config.type}.exportLayers`, inputShape));
    return [{ type: 'invertibleDownsample', factor: this.stride }, ...inner];
  }
  dispose(): void {
    if (this.disposed) return;
    this.inner.dispose();
    this.disposed = true;
  }
}

/**
 * Applies the reference's stride rule (`LipschitzConv2d`): stride 1 → `makeInner(options)`;
 * stride s > 1 → invertible downsampling by s, then `makeInner` with `stride²·inChannels` input
 * channels, kernel `kernelSize / s`, stride 1 and `inputSize / s`. Validates the options first.
 *
 * @example
 * ```ts
 * export const myConv2d = (o: ConvLayerOptions) => withStride('myConv2d', o, (inner) => new MyConv2d(inner));
 * ```
 */
export function withStride(
  type: string,
  options: ConvLayerOptions,
  makeInner: (inner: ConvLayerOptions & { stride: 1 }) => LayerModule,
): LayerModule {
  validateConvOptions(type, options);
  const s = options.stride ?? 1;
  if (s === 1) return makeInner({ ...options, stride: 1 });
  if (options.inputSize && (options.inputSize[0] % s !== 0 || options.inputSize[1] % s !== 0)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${type}: inputSize [${options.inputSize.join(', ')}] must be a multiple of the stride ${s}.`);
  }
  const inner = makeInner({
    ...options,
    inChannels: options.inChannels * s * s,
    kernelSize: options.kernelSize / s,
    stride: 1,
    ...(options.inputSize ? { inputSize: [options.inputSize[0] / s, options.inputSize[1] / s] as [number, number] } : {}),
  });
  return new StridedConv(type, options, inner);
}
