import { SeededRandom, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import { bcopInitialParams, bcopKernelFromOrthogonal } from '@lipschitz/blockconv';
import type { OrthogonalizerSpec } from '@lipschitz/orthogonalize';
import {
  type Orthogonalization,
  type OrthogonalizationOptions,
  OrthogonalWeight,
  resolveOrthogonalization,
  withOrthogonalization,
} from './orthogonal-weight';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import type { ConvLayerOptions } from './conv-options';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { uniformTensor } from './initializers';

/** Options of {@link bcopConv2d}. */
export interface BcopConv2dOptions extends ConvLayerOptions, OrthogonalizationOptions {
  /**
   * Björck iterations of the `'unrolled'` (default 20, the reference) or `'reprojected'` (default 1)
   * forward scheme when no `orthogonalizer` is given.
   */
  iterations?: number;
}

/** Stride-1 BCOP convolution (see {@link bcopConv2d}). */
export class BcopConv2d extends CircularConvLayer {
  /** `[2(k − 1) + 1, cmax, cmax]`: H, then P1, Q1, P2, Q2, … (reference §1.1). */
  readonly params: tf.Variable;
  readonly bias: tf.Variable | null;
  /** The parameter matrices and the scheme that keeps them orthogonal (option `orthogonalization`). */
  readonly weight: OrthogonalWeight;

  constructor(options: BcopConv2dOptions) {
    super('bcopConv2d', options);
    const seed = options.seed ?? 0;
    this.params = this.addVariable(
      bcopInitialParams({ inChannels: options.inChannels, outChannels: options.outChannels, kernelSize: options.kernelSize, seed }),
    );
    this.weight = new OrthogonalWeight(this.params, resolveOrthogonalization('bcopConv2d', options), seed, options);
    // The bias uses its own stream (seed + 1) so the parameter matrices match bcopInitialParams(seed).
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], 1 / Math.sqrt(options.outChannels), new SeededRandom(seed + 1))) : null;
  }

  /** How the parameter matrices are kept orthogonal (see `ORTHOGONALIZATIONS`). */
  get orthogonalization(): Orthogonalization {
    return this.weight.orthogonalization;
  }

  /** The orthogonalizer (forward scheme, or the freeze-time projection of `'projected'`). */
  get orthogonalizer(): OrthogonalizerSpec {
    return this.weight.orthogonalizer;
  }

  /** Whether `afterStep` fully re-projects the parameter matrices (`orthogonalization: 'reprojected'`). */
  get reproject(): boolean {
    return this.weight.orthogonalization === 'reprojected';
  }

  /** The parameter matrices' orthogonal parameterisation: freezing, the read-back, the bound and disposal go through it. */
  protected override orthogonalParameters(): OrthogonalWeight {
    return this.weight;
  }

  protected override computeKernels(): tf.Tensor[] {
    const ortho = this.weight.matrix() as tf.Tensor3D;
    const kernel = bcopKernelFromOrthogonal(ortho, {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: this.kernelSize,
    });
    return this.bias ? [kernel, this.bias] : [kernel];
  }

  /** Keeps the parameter matrices orthogonal after an optimizer step (see `OrthogonalWeight.afterStep`). */
  afterStep(step: number): void {
    assertNotDisposed('bcopConv2d.afterStep', this.disposed);
    assertPositiveInteger('bcopConv2d.afterStep', 'step', step);
    this.weight.afterStep(this);
  }

  /**
   * Re-projects every parameter matrix now, `w ← c·polar(w)` with `c = ‖w‖_F/√cmax` (`scaledPolar`),
   * in place, outside any gradient tape, without reading anything back; the kernel is unchanged up to
   * float32 rounding. Call it after assigning parameters that are not on the scaled manifold to a layer
   * that uses the reduced `REPROJECTED_BJORCK` (the initial parameters already are).
   */
  reprojectParameters(): void {
    assertNotDisposed('bcopConv2d.reprojectParameters', this.disposed);
    this.weight.reproject(this);
  }
}

/**
 * BCOP convolution (Li et al. 2019, "Preventing Gradient Attenuation in Lipschitz Constrained
 * Convolutional Networks"): a `k × k` kernel built from `2(k − 1) + 1` Björck-orthonormalized
 * `cmax × cmax` matrices (H and the symmetric projectors P_i, Q_i of rank ⌊cmax/2⌋) by block
 * convolution of `[P; I − P] □ [Q, I − Q]` blocks, applied with circular padding. A stride s is done as
 * the reference's `LipschitzConv2d`: `kernelSize % s == 0`, invertible downsampling by s, then a BCOP of
 * kernel k/s on s²·cin channels. Trainable parameters: `(2(k' − 1) + 1)·cmax² (+ cout)`, k' = k/s,
 * cmax = max(s²·cin, cout).
 *
 * Init (reference §1.2): every matrix random orthogonal × 1/√cmax (so the initial kernel is exactly
 * orthogonal), bias U(±1/√cout); seeded.
 *
 * Guarantee: orthogonal (all singular values 1: an isometry when cin ≤ cout, a co-isometry — gradient
 * norm preserving — when cin > cout) up to Björck's convergence; `lipschitzUpperBound` is the exact
 * σ_max of the kernel actually used (float64 FFT at the input size), hence sound.
 *
 * Kernel caching: `freeze()` builds the kernel once and `apply` is then a single convolution;
 * `unfreeze()` before training (gradients do not reach a frozen layer's parameters).
 *
 * Orthogonalization (option `orthogonalization`, see `ORTHOGONALIZATIONS`): by default (`'projected'`,
 * issue 14) the parameter matrices are kept on the scaled orthogonal manifold by a Newton–Schulz
 * retraction in `afterStep` (which the training loops call after every optimizer step), and the forward
 * pass only rescales them, with the polar factor's gradient (the tangent-space projection): a training
 * step costs about what the unconstrained layer costs. `'unrolled'` runs the reference's Björck-20,
 * differentiated, in every forward pass (`orthogonalizer: REFERENCE_BJORCK` for the literal reference);
 * `'reprojected'` (`reproject: true`, issue 10) re-projects fully after each step and runs 1 Björck step.
 * `freeze()` and the exports orthogonalize fully in every scheme; bounds use the exported kernel's exact
 * spectrum, so soundness never depends on the scheme.
 *
 * Ownership: owns its variables (`dispose()`); `apply` borrows `x` (NHWC `[b, h, w, cin]`) and returns
 * a new tensor `[b, h/s, w/s, cout]`. Throws `INVALID_ARGUMENT` on bad options (kernelSize not a
 * multiple of stride, …), `SHAPE_MISMATCH` on a wrong input.
 *
 * @example
 * ```ts
 * const conv = bcopConv2d({ inChannels: 1, outChannels: 16, kernelSize: 4, stride: 2, seed: 0 });
 * const y = conv.apply(tf.zeros([8, 28, 28, 1])); // [8, 14, 14, 16]
 * const bound = await conv.lipschitzUpperBound([28, 28, 1]); // ≤ 1 + 1e-5
 * ```
 * @see Q. Li, S. Haque, C. Anil, J. Lucas, R. Grosse, J.-H. Jacobsen, NeurIPS 2019 (arXiv 1911.00937);
 *   reference-bcop.md §1.
 */
export function bcopConv2d(options: BcopConv2dOptions): LayerModule {
  if (options?.iterations !== undefined) assertPositiveInteger('bcopConv2d', 'iterations', options.iterations);
  const orthogonalization = resolveOrthogonalization('bcopConv2d', options);
  return withStride('bcopConv2d', withOrthogonalization(options, orthogonalization), (inner) => new BcopConv2d(inner));
}
