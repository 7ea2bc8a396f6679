import { type ExportedLayer, assertNotDisposed, encodeTensor } from '@lipschitz/core';
import type * as tf from '@tensorflow/tfjs-core';
import { circularConv2d } from '@lipschitz/blockconv';
import { type ConvLayerOptions, assertNhwc } from './conv-options';
import { boundOfExportedLayers } from './host-bound';
import { LayerBase } from './layer-base';

/**
 * Base class of a stride-1 convolution with circular padding as in the reference (for even k:
 * k/2 rows/cols wrapped at top/left, k/2 − 1 at bottom/right). Subclasses implement
 * `computeKernels()` returning `[kernel]` or `[kernel, bias]` with the kernel HWIO `[k, k, cin, cout]`.
 *
 * Provides `apply`, the exact bound (σ_max of the circular convolution at the input size, by FFT in
 * float64 on the host, plus `HOST_NORM_SLACK`, through `@lipschitz/model-format`), `exportLayers` (`conv2d`, `circular`) and
 * `outputShape`.
 */
export abstract class CircularConvLayer extends LayerBase {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly useBias: boolean;

  constructor(type: string, options: ConvLayerOptions, name?: string) {
    super(type, options, name ?? `${type}(${options.inChannels}→${options.outChannels}, k=${options.kernelSize})`);
    this.inChannels = options.inChannels;
    this.outChannels = options.outChannels;
    this.kernelSize = options.kernelSize;
    this.useBias = options.bias ?? true;
  }

  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    assertNhwc(fn, inputShape, this.inChannels);
  }

  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    // Frozen kernels are constants: their gradient node computes ∂x only (attacks, certification).
    return circularConv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, kernels[1] as tf.Tensor1D | undefined, { kernelGradient: !this.frozen });
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape(`${this.config.type}.outputShape`, inputShape);
    return [inputShape[0], inputShape[1], this.outChannels];
  }

  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    this.checkInputShape(`${this.config.type}.lipschitzUpperBound`, inputShape);
    return this.boundCoveringTrainingForward(() => boundOfExportedLayers(this, inputShape));
  }

  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed(`${this.config.type}.exportLayers`, this.disposed);
    this.checkInputShape(`${this.config.type}.exportLayers`, inputShape);
    const [kernel, bias] = await this.kernelValues();
    const k = this.kernelSize;
    const layer: ExportedLayer = {
      type: 'conv2d',
      padding: 'circular',
      kernel: encodeTensor([k, k, this.inChannels, this.outChannels], kernel),
    };
    if (bias) layer.bias = encodeTensor([this.outChannels], bias);
    return [layer];
  }
}
