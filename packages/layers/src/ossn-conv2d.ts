import { LipschitzError, SeededRandom, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import { circularConv2d, circularConv2dAdjoint } from '@lipschitz/blockconv';
import * as tf from '@tensorflow/tfjs-core';
import { linkStridedInputSize, recordInputSize } from './input-size';
import type { LayerModule } from './layer-base';
import { type ConvLayerOptions, validateConvOptions } from './conv-options';
import { CircularConvLayer } from './circular-conv-layer';
import { withStride } from './strided-conv';
import { uniformTensor } from './initializers';

/** Options of {@link ossnConv2d}. */
export interface OssnConv2dOptions extends ConvLayerOptions {
  /** Power iterations per training forward (default 10, as the reference's configs). */
  powerIterations?: number;
}

/** PyTorch's `F.normalize` of the flattened tensor: `x / max(‖x‖₂, 1e-12)`. */
function normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.maximum(tf.norm(x), 1e-12));
}

/**
 * Runs `fn` without recording its ops on any active gradient tape and returns its result as a
 * constant: inside a `tf.customGrad` forward the engine does not record kernels, and the node's own
 * gradient is zero. Used for the power iteration, which must stay outside the tape (design.md,
 * "State").
 */
function offTape(anchor: tf.Tensor, fn: () => tf.Tensor): tf.Tensor {
  const node = tf.customGrad((...inputs) => ({
    value: fn(),
    gradFunc: () => [tf.zerosLike(inputs[0] as tf.Tensor)],
  }));
  return node(anchor);
}

/**
 * Stride-1 OSSN layer (see {@link ossnConv2d}). Its non-trainable state (in `variables`, saved by
 * `saveModel`): the power-iteration vector u `[1, h, w, cout]` and the stored factor `max(σ̂, 1)`.
 * They are created at the first use (constructor with `inputSize`, or first `apply`), with one round
 * of `powerIterations` iterations, so the very first training forward iterates twice as long as the
 * reference's (a more accurate first σ̂; no other difference).
 */
export class OssnConv2d extends CircularConvLayer {
  /** The unconstrained kernel `w` (HWIO), trained. */
  readonly kernel: tf.Variable;
  /** The bias `[cout]`, or null with `bias: false`. */
  readonly bias: tf.Variable | null;
  /** Power iterations per training forward. */
  readonly powerIterations: number;
  private size: [number, number] | null = null;
  private u: tf.Variable | null = null;
  private factor: tf.Variable | null = null;
  private readonly rng: SeededRandom;
  /** @internal Set by a strided wrapper to learn the size this layer fixes at its first use. */
  onInputSize?: (size: [number, number]) => void;

  constructor(options: OssnConv2dOptions & { stride: 1 }) {
    super('ossnConv2d', options);
    this.powerIterations = options.powerIterations ?? 10;
    this.rng = new SeededRandom(options.seed ?? 0);
    const k = options.kernelSize;
    // PyTorch nn.Conv2d default: kaiming_uniform(a = √5) ⇒ U(±1/√fan_in); bias U(±1/√fan_in).
    const limit = 1 / Math.sqrt(options.inChannels * k * k);
    this.kernel = this.addVariable(uniformTensor([k, k, options.inChannels, options.outChannels], limit, this.rng));
    this.bias = this.useBias ? this.addVariable(uniformTensor([options.outChannels], limit, this.rng)) : null;
    if (options.inputSize) this.ensureState('ossnConv2d', options.inputSize);
  }

  /** The spatial size the power-iteration vector lives at, once known. */
  get inputSize(): [number, number] | null {
    return this.size ? [this.size[0], this.size[1]] : null;
  }

  /**
   * Creates the power-iteration vector u (N(0, 1), shape of one output map `[1, h, w, cout]`) and the
   * stored factor at the first use, running one round of iterations (off the tape) so the factor is
   * defined for evaluation.
   */
  private ensureState(fn: string, size: readonly number[]): void {
    if (this.size) {
      if (this.size[0] !== size[0] || this.size[1] !== size[1]) {
        throw new LipschitzError(
          'SHAPE_MISMATCH',
          `${fn}: this OSSN layer's power-iteration vector was built for ${this.size[0]}×${this.size[1]} inputs, got ${size[0]}×${size[1]}. Use inputs of one spatial size (or freeze() the layer to evaluate other sizes).`,
        );
      }
      return;
    }
    if (size[0] < this.kernelSize || size[1] < this.kernelSize) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the input (${size[0]}×${size[1]}) must be at least as large as the kernel (${this.kernelSize}).`);
    }
    this.size = [size[0], size[1]];
    recordInputSize(this, size);
    const count = size[0] * size[1] * this.outChannels;
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = this.rng.normal();
    this.u = this.addState(tf.tensor(values, [1, size[0], size[1], this.outChannels]));
    this.factor = this.addState(tf.scalar(1));
    // Possibly called inside a gradient tape (first apply): keep the iterations off it.
    tf.tidy(() => {
      offTape(this.kernel, () => this.iterate());
    });
  }

  /**
   * `powerIterations` rounds of v ← normalize(Kᵀu), u ← normalize(K v) with the true adjoint, then
   * stores u and factor = max(⟨u, K v⟩, 1). Must run off any gradient tape. Returns v.
   */
  private iterate(): tf.Tensor {
    const w = this.kernel as unknown as tf.Tensor4D;
    let u = this.u as tf.Tensor;
    let v = u;
    for (let i = 0; i < this.powerIterations; i++) {
      v = normalize(circularConv2dAdjoint(u as tf.Tensor4D, w));
      u = normalize(circularConv2d(v as tf.Tensor4D, w));
    }
    const sigma = tf.sum(tf.mul(u, circularConv2d(v as tf.Tensor4D, w)));
    this.u!.assign(u);
    this.factor!.assign(tf.maximum(sigma, 1));
    return v;
  }

  /**
   * Training forward (unfrozen): power iteration off the tape, then σ = ⟨u, K v⟩ with the gradient
   * through the kernel, factor = max(σ, 1), kernel = w / factor. Frozen: the cached `w / factor`.
   */
  override apply(x: tf.Tensor): tf.Tensor {
    const fn = 'ossnConv2d.apply';
    assertNotDisposed(fn, this.disposed);
    if (this.frozen) return super.apply(x);
    this.checkInputShape(fn, x.shape.slice(1));
    this.ensureState(fn, x.shape.slice(1, 3));
    return tf.tidy(() => {
      const v = offTape(this.kernel, () => this.iterate());
      const w = this.kernel as unknown as tf.Tensor4D;
      const sigma = tf.sum(tf.mul(this.u as tf.Tensor, circularConv2d(v as tf.Tensor4D, w)));
      const kernel = tf.div(w, tf.maximum(sigma, 1));
      return this.forward(x, this.bias ? [kernel, this.bias] : [kernel]);
    });
  }

  /** The evaluation kernels `[w / factor, bias]` from the stored factor (no iterations). */
  protected override computeKernels(): tf.Tensor[] {
    if (!this.factor) {
      throw new LipschitzError(
        'UNSUPPORTED_CONFIGURATION',
        'ossnConv2d: the spectral-norm factor is not known yet. Pass inputSize to ossnConv2d, or apply the layer once, before freeze().',
      );
    }
    const kernel = tf.div(this.kernel, this.factor);
    return this.bias ? [kernel, this.bias] : [kernel];
  }

  /**
   * Exact σ_max of the circular convolution with the scaled kernel `w / factor` at the input size
   * (float64 FFT + SVD on the host, plus a 1e-12 relative slack). The power iteration is a lower
   * estimate of ‖w‖₂, so this may be slightly above 1.
   */
  override lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed('ossnConv2d.lipschitzUpperBound', this.disposed);
    this.checkInputShape('ossnConv2d.lipschitzUpperBound', inputShape);
    if (!this.factor) this.ensureState('ossnConv2d.lipschitzUpperBound', inputShape.slice(0, 2));
    return super.lipschitzUpperBound(inputShape);
  }

  override exportLayers(inputShape: readonly number[]) {
    assertNotDisposed('ossnConv2d.exportLayers', this.disposed);
    this.checkInputShape('ossnConv2d.exportLayers', inputShape);
    if (!this.factor) this.ensureState('ossnConv2d.exportLayers', inputShape.slice(0, 2));
    return super.exportLayers(inputShape);
  }

  override freeze(): void {
    assertNotDisposed('ossnConv2d.freeze', this.disposed);
    if (!this.frozen) {
      if (!this.factor) {
        throw new LipschitzError(
          'UNSUPPORTED_CONFIGURATION',
          'ossnConv2d.freeze: the spectral-norm factor is not known yet. Pass inputSize to ossnConv2d, or apply the layer once, before freeze().',
        );
      }
    }
    super.freeze();
  }
}

/**
 * A convolution normalised by its power-iteration spectral-norm estimate ("one-sided spectral
 * normalisation", OSSN, the baseline of Li et al. 2019 after Miyato et al. 2018 / Gouk et al. 2018):
 * a plain circular convolution with PyTorch's default initialisation whose kernel is divided by
 * `max(σ̂, 1)`, where σ̂ = ⟨u, K v⟩ comes from `powerIterations` power iterations per training forward
 * on a persistent vector u (one output map, N(0, 1) at first use, kept off the gradient tape):
 * `v ← normalize(Kᵀu)`, `u ← normalize(K v)`. The gradient flows through σ̂ to the kernel.
 * Frozen (evaluation), the stored factor is reused without iterations, as the reference's eval mode.
 *
 * Fixed defect of the reference: its "transpose" convolution is not the adjoint for even kernels
 * (asymmetric circular padding), so its iteration does not estimate ‖K‖₂ there. Here Kᵀ is the
 * true adjoint ({@link circularConv2dAdjoint}).
 *
 * Not a guarantee: σ̂ is a lower estimate of ‖K‖₂, so the layer's exact norm (its
 * `lipschitzUpperBound`, computed by FFT) may be slightly above 1.
 *
 * Strides are done as the reference's `LipschitzConv2d`: invertible downsampling by s, then a
 * (k/s)-kernel OSSN on s²·cin channels. The vector u needs the spatial size: pass `inputSize`, or it
 * is fixed at the first `apply`.
 *
 * Ownership: the returned module owns its variables; call `dispose()`.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for bad options (see `validateConvOptions`, and
 *   `powerIterations` must be a positive integer).
 * @example
 * ```ts
 * const conv = ossnConv2d({ inChannels: 1, outChannels: 16, kernelSize: 4, stride: 2, inputSize: [28, 28] });
 * const y = conv.apply(x); // [b, 14, 14, 16]
 * const bound = await conv.lipschitzUpperBound([28, 28, 1]); // exact σ_max (≈ 1, may exceed it slightly)
 * ```
 * @see Li et al., "Preventing Gradient Attenuation in Lipschitz Constrained Convolutional Networks",
 *   NeurIPS 2019 (LConvNet `ossn.py`, reference-bcop.md §4); Miyato et al., "Spectral Normalization for
 *   Generative Adversarial Networks", ICLR 2018.
 */
export function ossnConv2d(options: OssnConv2dOptions): LayerModule {
  validateConvOptions('ossnConv2d', options);
  if (options.powerIterations !== undefined) assertPositiveInteger('ossnConv2d', 'powerIterations', options.powerIterations);
  let layer: OssnConv2d | null = null;
  const module = withStride('ossnConv2d', options, (inner) => {
    layer = new OssnConv2d(inner);
    return layer;
  });
  linkStridedInputSize(module, layer, options.stride ?? 1);
  return module;
}
