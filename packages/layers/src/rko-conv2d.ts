import { LipschitzError, SeededRandom, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import {
  type OrthogonalizerSpec,
  defaultOrthogonalizer,
  orthogonalizeWeight,
  reprojectInPlace,
  reprojectedOrthogonalizer,
  validateReproject,
} from './orthogonalizer';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import type { ConvLayerOptions } from './conv-options';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { orthogonalTensor, uniformTensor } from './initializers';

/** Options of {@link rkoConv2d}. */
export interface RkoConv2dOptions extends ConvLayerOptions {
  /** How the reshaped matrix is orthogonalized (default: the reference's 20-step Björck). */
  orthogonalizer?: OrthogonalizerSpec;
  /**
   * Re-project the weight after every optimizer step (`afterStep`): `w ← c·polar(w)`,
   * `c = ‖w‖_F/√min(rows, cols)`, outside the tape (the function is unchanged). Without an explicit
   * `orthogonalizer` the forward pass then uses `REPROJECTED_BJORCK` (1 Björck step) instead of 20.
   * Default false (the reference).
   */
  reproject?: boolean;
}

/** Stride-1 RKO convolution (see {@link rkoConv2d}). */
export class RkoConv2d extends CircularConvLayer {
  /** `[k·k·cin, cout]`: the reshaped kernel matrix (row `(u·k + v)·cin + c`). */
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly orthogonalizer: OrthogonalizerSpec;
  /** Whether `afterStep` re-projects the weight (option `reproject`). */
  readonly reproject: boolean;

  constructor(options: RkoConv2dOptions) {
    super('rkoConv2d', options);
    this.reproject = options.reproject ?? false;
    const seed = options.seed ?? 0;
    this.orthogonalizer = options.orthogonalizer ?? (this.reproject ? reprojectedOrthogonalizer(seed) : defaultOrthogonalizer(seed));
    const k = options.kernelSize;
    const rows = k * k * options.inChannels;
    const rng = new SeededRandom(options.seed ?? 0);
    const gain = 1 / Math.sqrt(rows);
    this.weight = this.addVariable(orthogonalTensor(rows, options.outChannels, gain, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], gain, rng)) : null;
  }

  protected override computeKernels(): tf.Tensor[] {
    const k = this.kernelSize;
    const w = orthogonalizeWeight(this.weight, this.orthogonalizer);
    const kernel = tf.reshape(tf.div(w, k), [k, k, this.inChannels, this.outChannels]);
    return this.bias ? [kernel, this.bias] : [kernel];
  }

  /** With `reproject: true`, re-projects the weight ({@link RkoConv2d.reprojectParameters}); else nothing. */
  afterStep(step: number): void {
    assertNotDisposed('rkoConv2d.afterStep', this.disposed);
    assertPositiveInteger('rkoConv2d.afterStep', 'step', step);
    if (this.reproject) this.reprojectParameters();
  }

  /**
   * Re-projects the weight now, `w ← c·polar(w)` with `c = ‖w‖_F/√min(rows, cols)` (`scaledPolar`), in
   * place, outside any gradient tape, without reading anything back; the orthogonalized weight is
   * unchanged up to float32 rounding. Call it after assigning a weight that is not on the scaled manifold
   * to a layer that uses the reduced `REPROJECTED_BJORCK` (the initial weight already is).
   */
  reprojectParameters(): void {
    assertNotDisposed('rkoConv2d.reprojectParameters', this.disposed);
    reprojectInPlace(this.weight, this);
  }
}

/**
 * RKO convolution, "reshaped kernel orthogonalization" (reference §4, a baseline of Li et al. 2019):
 * the kernel, viewed as a `(k²·cin) × cout` matrix, is Björck-orthonormalized and divided by k, then
 * applied with circular padding. A stride s is done as in {@link bcopConv2d} (invertible downsampling,
 * then kernel k/s).
 *
 * Init: orthogonal with gain 1/√(k²·cin), bias U(±1/√(k²·cin)) (reference `BjorckLinear`); seeded.
 *
 * Guarantee: 1-Lipschitz but not tight (‖conv‖ ≤ k·‖W‖ = 1: every pixel is read k² times, so σ_max
 * is usually below 1 and gradients attenuate); `lipschitzUpperBound` is the exact σ_max of the kernel
 * actually used (float64 FFT at the input size).
 *
 * Kernel caching, ownership and re-projection (`reproject: true`: the weight matrix is moved back to the
 * scaled orthogonal manifold after every optimizer step, and 1 Björck step replaces 20) as {@link bcopConv2d}.
 *
 * @example
 * ```ts
 * const conv = rkoConv2d({ inChannels: 16, outChannels: 16, kernelSize: 3 });
 * ```
 * @see Li et al., NeurIPS 2019, §4.1 and reference-bcop.md §4; Cisse et al. 2017 (Parseval networks).
 */
export function rkoConv2d(options: RkoConv2dOptions): LayerModule {
  validateReproject('rkoConv2d', options?.reproject);
  if (options?.orthogonalizer !== undefined && (options.orthogonalizer === null || typeof options.orthogonalizer !== 'object')) {
    throw new LipschitzError('INVALID_ARGUMENT', 'rkoConv2d: orthogonalizer must be an OrthogonalizerSpec object from @lipschitz/orthogonalize.');
  }
  return withStride('rkoConv2d', options, (inner) => new RkoConv2d(inner));
}
