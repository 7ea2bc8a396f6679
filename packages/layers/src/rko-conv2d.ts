import { SeededRandom, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import type { OrthogonalizerSpec } from '@lipschitz/orthogonalize';
import {
  type Orthogonalization,
  type OrthogonalizationOptions,
  OrthogonalWeight,
  resolveOrthogonalization,
  withOrthogonalization,
} from './orthogonal-weight';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import type { ConvLayerOptions } from './conv-options';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { orthogonalTensor, uniformTensor } from './initializers';

/** Options of {@link rkoConv2d}. */
export interface RkoConv2dOptions extends ConvLayerOptions, OrthogonalizationOptions {}

/** Stride-1 RKO convolution (see {@link rkoConv2d}). */
export class RkoConv2d extends CircularConvLayer {
  /** `[k·k·cin, cout]`: the reshaped kernel matrix (row `(u·k + v)·cin + c`). */
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  /** The reshaped matrix and the scheme that keeps it orthogonal (option `orthogonalization`). */
  readonly orthogonalWeight: OrthogonalWeight;

  constructor(options: RkoConv2dOptions) {
    super('rkoConv2d', options);
    const seed = options.seed ?? 0;
    const k = options.kernelSize;
    const rows = k * k * options.inChannels;
    const rng = new SeededRandom(options.seed ?? 0);
    const gain = 1 / Math.sqrt(rows);
    this.weight = this.addVariable(orthogonalTensor(rows, options.outChannels, gain, rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], gain, rng)) : null;
    this.orthogonalWeight = new OrthogonalWeight(this.weight, resolveOrthogonalization('rkoConv2d', options), seed, options);
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
    const k = this.kernelSize;
    const w = this.orthogonalWeight.matrix();
    const kernel = tf.reshape(tf.div(w, k), [k, k, this.inChannels, this.outChannels]);
    return this.bias ? [kernel, this.bias] : [kernel];
  }

  /** Keeps the weight orthogonal after an optimizer step (see `OrthogonalWeight.afterStep`). */
  afterStep(step: number): void {
    assertNotDisposed('rkoConv2d.afterStep', this.disposed);
    assertPositiveInteger('rkoConv2d.afterStep', 'step', step);
    this.orthogonalWeight.afterStep(this);
  }

  /**
   * Re-projects the weight now, `w ← c·polar(w)` with `c = ‖w‖_F/√min(rows, cols)` (`scaledPolar`), in
   * place, outside any gradient tape, without reading anything back; the orthogonalized weight is
   * unchanged up to float32 rounding. Call it after assigning a weight that is not on the scaled manifold
   * to a layer that uses the reduced `REPROJECTED_BJORCK` (the initial weight already is).
   */
  reprojectParameters(): void {
    assertNotDisposed('rkoConv2d.reprojectParameters', this.disposed);
    this.orthogonalWeight.reproject(this);
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
 * Kernel caching, ownership and orthogonalization (`orthogonalization`: `'projected'` by default,
 * `'unrolled'`, `'reprojected'`) as {@link bcopConv2d}.
 *
 * @example
 * ```ts
 * const conv = rkoConv2d({ inChannels: 16, outChannels: 16, kernelSize: 3 });
 * ```
 * @see Li et al., NeurIPS 2019, §4.1 and reference-bcop.md §4; Cisse et al. 2017 (Parseval networks).
 */
export function rkoConv2d(options: RkoConv2dOptions): LayerModule {
  const orthogonalization = resolveOrthogonalization('rkoConv2d', options);
  return withStride('rkoConv2d', withOrthogonalization(options, orthogonalization), (inner) => new RkoConv2d(inner));
}
