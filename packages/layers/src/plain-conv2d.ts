import { LipschitzError, type ExportedLayer, type ExportedPadding, SeededRandom, assertNotDisposed, assertOneOf } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { type ConvLayerOptions, validateConvOptions } from './conv-options';
import { boundOfExportedLayers } from './host-bound';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { uniformTensor } from './initializers';

/** Options of {@link plainConv2d}. */
export interface PlainConv2dOptions extends ConvLayerOptions {
  /**
   * Padding of the stride-1 convolution: `'circular'` (default, as the Lipschitz layers),
   * `'zero-same'` (TensorFlow 'same' zero padding) or `'valid'` (no padding).
   */
  padding?: ExportedPadding;
}

const PADDINGS: readonly ExportedPadding[] = ['circular', 'zero-same', 'valid'];

/** Unconstrained stride-1 convolution (see {@link plainConv2d}). */
export class PlainConv2d extends CircularConvLayer {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly padding: ExportedPadding;

  constructor(options: PlainConv2dOptions) {
    super('plainConv2d', options, `plainConv2d(${options.inChannels}→${options.outChannels}, k=${options.kernelSize}, ${options.padding ?? 'circular'})`);
    this.padding = options.padding ?? 'circular';
    const rng = new SeededRandom(options.seed ?? 0);
    const k = options.kernelSize;
    const limit = 1 / Math.sqrt(options.inChannels * k * k);
    this.kernel = this.addVariable(uniformTensor([k, k, options.inChannels, options.outChannels], limit, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], limit, rng)) : null;
  }

  protected override computeKernels(): tf.Tensor[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  protected override checkInputShape(fn: string, inputShape: readonly number[]): void {
    super.checkInputShape(fn, inputShape);
    if (this.padding === 'valid' && (inputShape[0] < this.kernelSize || inputShape[1] < this.kernelSize)) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: a 'valid' convolution needs an input of at least ${this.kernelSize}×${this.kernelSize}, got ${inputShape[0]}×${inputShape[1]}.`);
    }
  }

  protected override forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    if (this.padding === 'circular') return super.forward(x, kernels);
    const y = tf.conv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, 1, this.padding === 'valid' ? 'valid' : 'same');
    return kernels[1] ? tf.add(y, kernels[1]) : y;
  }

  override outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('plainConv2d.outputShape', inputShape);
    const shrink = this.padding === 'valid' ? this.kernelSize - 1 : 0;
    return [inputShape[0] - shrink, inputShape[1] - shrink, this.outChannels];
  }

  /**
   * Exact σ_max of the circular convolution at the input size (circular, and 'valid', which is a crop
   * of it), or at `[h + k − 1, w + k − 1]` for 'zero-same' (a zero-padded convolution is a crop of the
   * circular one on the zero-extended input, so this is an upper bound).
   */
  override async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed('plainConv2d.lipschitzUpperBound', this.disposed);
    this.checkInputShape('plainConv2d.lipschitzUpperBound', inputShape);
    return boundOfExportedLayers(this, inputShape);
  }

  override async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    const [layer] = await super.exportLayers(inputShape);
    return [{ ...layer, padding: this.padding } as ExportedLayer];
  }
}

/**
 * An unconstrained convolution with PyTorch's `nn.Conv2d` init (kernel and bias uniform in
 * ±1/√(cin·k²)), for "the same architecture with plain layers" (benchmarks, attacks). A stride s is
 * done as in the Lipschitz layers: invertible downsampling by s, then a k/s convolution.
 *
 * Guarantee: none by construction; `lipschitzUpperBound` is a sound bound from the exact spectrum
 * (exact for circular padding).
 *
 * Ownership: owns its variables; `apply` borrows `x` (NHWC) and returns a new tensor. Throws
 * `INVALID_ARGUMENT` on bad options.
 *
 * @example
 * ```ts
 * const conv = plainConv2d({ inChannels: 1, outChannels: 16, kernelSize: 4, stride: 2 });
 * conv.apply(tf.zeros([1, 28, 28, 1])).shape; // [1, 14, 14, 16]
 * ```
 * @see PyTorch `nn.Conv2d.reset_parameters`.
 */
export function plainConv2d(options: PlainConv2dOptions): LayerModule {
  validateConvOptions('plainConv2d', options);
  if (options.padding !== undefined) assertOneOf('plainConv2d', 'padding', options.padding, PADDINGS);
  return withStride('plainConv2d', options, (inner) => new PlainConv2d(inner as PlainConv2dOptions));
}

