import { LipschitzError, SeededRandom, type StepContext, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { clipConvSingularValues } from '@lipschitz/linalg';
import { linkStridedInputSize, recordInputSize } from './input-size';
import type { LayerModule } from './layer-base';
import { type ConvLayerOptions, validateConvOptions } from './conv-options';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { uniformTensor } from './initializers';

/** Options of {@link svcmConv2d}. */
export interface SvcmConv2dOptions extends ConvLayerOptions {
  /**
   * Projection period (default 100, as the reference). With a `StepContext` (from `train`), `afterStep`
   * projects as the reference's trainer does: when `batchInEpoch % projectEvery === 0` and after the last
   * batch of every epoch (so every evaluation sees a projected kernel); without one, when
   * `step % projectEvery === 0`.
   */
  projectEvery?: number;
  /** Clip-and-truncate rounds per projection (default 50, as the reference). */
  projections?: number;
}

/** What {@link svcmConv2d} returns: a layer module with {@link SvcmConv2d.project} (also when strided). */
export type SvcmModule = LayerModule & { project(): Promise<void> };

/** Stride-1 SVCM layer (see {@link svcmConv2d}). */
export class SvcmConv2d extends CircularConvLayer {
  /** The kernel (HWIO), trained freely and projected every `projectEvery` steps. */
  readonly kernel: tf.Variable;
  /** The bias `[cout]`, or null with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Projection period (see {@link SvcmConv2dOptions.projectEvery}). */
  readonly projectEvery: number;
  /** Clip-and-truncate rounds per projection. */
  readonly projections: number;
  private size: [number, number] | null;
  /** @internal Set by a strided wrapper to learn the size this layer fixes at its first use. */
  onInputSize?: (size: [number, number]) => void;

  constructor(options: SvcmConv2dOptions & { stride: 1 }) {
    super('svcmConv2d', options);
    this.projectEvery = options.projectEvery ?? 100;
    this.projections = options.projections ?? 50;
    this.size = options.inputSize ? [options.inputSize[0], options.inputSize[1]] : null;
    const rng = new SeededRandom(options.seed ?? 0);
    const k = options.kernelSize;
    // PyTorch nn.Conv2d default: kaiming_uniform(a = √5) ⇒ U(±1/√fan_in); bias U(±1/√fan_in).
    const limit = 1 / Math.sqrt(options.inChannels * k * k);
    this.kernel = this.addVariable(uniformTensor([k, k, options.inChannels, options.outChannels], limit, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], limit, rng)) : null;
  }

  /** The spatial size the projection works at, once known (`inputSize` or the first `apply`). */
  get inputSize(): [number, number] | null {
    return this.size ? [this.size[0], this.size[1]] : null;
  }

  protected override computeKernels(): tf.Tensor[] {
    return this.bias ? [this.kernel, this.bias] : [this.kernel];
  }

  override apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed('svcmConv2d.apply', this.disposed);
    this.checkInputShape('svcmConv2d.apply', x.shape.slice(1));
    if (!this.size) {
      this.size = [x.shape[1] as number, x.shape[2] as number];
      recordInputSize(this, this.size);
    }
    return super.apply(x);
  }

  /**
   * Projects (see {@link SvcmConv2d.project}) on the reference's schedule: with `context`, when
   * `context.batchInEpoch % projectEvery === 0` or `context.lastInEpoch`; without, when
   * `step % projectEvery === 0`.
   */
  afterStep(step: number, context?: StepContext): Promise<void> {
    assertNotDisposed('svcmConv2d.afterStep', this.disposed);
    assertPositiveInteger('svcmConv2d.afterStep', 'step', step);
    const due = context ? context.batchInEpoch % this.projectEvery === 0 || context.lastInEpoch : step % this.projectEvery === 0;
    return due ? this.project() : Promise.resolve();
  }

  /**
   * Runs `projections` rounds of Sedghi et al.'s clipping now, on the host in float64 at the input
   * size, and writes the result into the kernel variable (refreshing the frozen cache if frozen).
   * Call it outside any gradient tape. The projected kernel's exact norm may still exceed 1 slightly
   * (truncation): `lipschitzUpperBound` reports it.
   *
   * @throws LipschitzError `UNSUPPORTED_CONFIGURATION` when the input size is not known yet (pass
   *   `inputSize`, or apply the layer once); `DISPOSED`.
   */
  async project(): Promise<void> {
    assertNotDisposed('svcmConv2d.project', this.disposed);
    const size = this.size;
    if (!size) {
      throw new LipschitzError(
        'UNSUPPORTED_CONFIGURATION',
        'svcmConv2d.project: the input size is not known yet. Pass inputSize to svcmConv2d, or apply the layer once, before projecting.',
      );
    }
    const k = this.kernelSize;
    const shape: [number, number, number, number] = [k, k, this.inChannels, this.outChannels];
    const values = (await this.kernel.data()) as Float32Array;
    if (this.disposed) return;
    const clipped = clipConvSingularValues(values, shape, size, { rounds: this.projections });
    tf.tidy(() => this.kernel.assign(tf.tensor(Float32Array.from(clipped), shape, 'float32')));
    if (this.frozen) {
      this.unfreeze();
      this.freeze();
    }
  }
}

/**
 * Singular-value clipping and masking (SVCM, the baseline of Li et al. 2019 after Sedghi et al. 2019):
 * a plain circular convolution (PyTorch default initialisation) with no constraint in the forward
 * pass; every `projectEvery` optimizer steps (`afterStep`) its kernel is projected by `projections`
 * rounds of {@link clipConvSingularValues} (FFT at the input size, SVD per frequency, σ clipped to ≤ 1,
 * inverse FFT, real part, truncation to k×k), in float64 on the host. Call `project()` to run it now
 * (the reference also projects after the last batch of each epoch).
 *
 * Not a guarantee: between projections the kernel is unconstrained, and after a projection the exact
 * norm may still exceed 1 slightly (the truncation); `lipschitzUpperBound` is the exact σ_max.
 *
 * Strides are done as the reference's `LipschitzConv2d` (invertible downsampling by s, then a
 * (k/s)-kernel SVCM on s²·cin channels). The projection needs the spatial size: pass `inputSize`, or
 * it is taken from the first `apply`.
 *
 * Ownership: the returned module owns its variables; call `dispose()`.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for bad options (see `validateConvOptions`; `projectEvery`
 *   and `projections` must be positive integers).
 * @example
 * ```ts
 * const conv = svcmConv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, inputSize: [14, 14] });
 * await conv.afterStep?.(100); // projects
 * const bound = await conv.lipschitzUpperBound([14, 14, 16]);
 * ```
 * @see H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of Convolutional Layers", ICLR 2019;
 *   Li et al., NeurIPS 2019 (LConvNet `svcm.py`, reference-bcop.md §4).
 */
export function svcmConv2d(options: SvcmConv2dOptions): SvcmModule {
  validateConvOptions('svcmConv2d', options);
  if (options.projectEvery !== undefined) assertPositiveInteger('svcmConv2d', 'projectEvery', options.projectEvery);
  if (options.projections !== undefined) assertPositiveInteger('svcmConv2d', 'projections', options.projections);
  let layer: SvcmConv2d | null = null;
  const module = withStride('svcmConv2d', options, (inner) => {
    layer = new SvcmConv2d(inner);
    return layer;
  });
  linkStridedInputSize(module, layer, options.stride ?? 1);
  if (module === layer) return layer;
  const inner = layer as unknown as SvcmConv2d;
  return Object.assign(module, { project: () => inner.project() });
}
