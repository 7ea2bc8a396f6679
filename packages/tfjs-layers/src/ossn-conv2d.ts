import { circularConv2d } from '@lipschitz/blockconv';
import { LipschitzError, SeededRandom, assertPositiveInteger } from '@lipschitz/core';
import { circularConv2dAdjoint, uniformTensor } from '@lipschitz/layers';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type LayerWeight, isTraining, knownDim, singleInput, singleShape } from './lipschitz-layer';
import { StridedCircularConv, type StridedCircularConvArgs } from './strided-circular-conv';
import { registerLayerOnce } from './register-layer';
import { valuesInitializer } from './values-initializer';

/** Options of {@link ossnConv2d} (tfjs-style, as `tf.layers.conv2d`). */
export interface OssnConv2dArgs extends StridedCircularConvArgs {
  /** Power iterations per training forward (default 10, as `@lipschitz/layers`). */
  powerIterations?: number;
}

/** PyTorch's `F.normalize` of the flattened tensor: `x / max(‖x‖₂, 1e-12)`. */
function normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.maximum(tf.norm(x), 1e-12));
}

/** Runs `fn` off any gradient tape (a custom-gradient node with a zero gradient) and returns its result. */
function offTape(anchor: tf.Tensor, fn: () => tf.Tensor): tf.Tensor {
  const node = tf.customGrad((...inputs) => ({ value: fn(), gradFunc: () => [tf.zerosLike(inputs[0] as tf.Tensor)] }));
  return node(anchor);
}

/**
 * OSSN convolution as a tfjs layer (see {@link ossnConv2d}). Trainable weights `kernel` (HWIO, after the
 * downsampling) and `bias`; non-trainable weights `u` `[1, h/s, w/s, filters]` (the power-iteration vector)
 * and `factor` (the stored `max(σ̂, 1)`), saved with the model.
 */
export class OssnConv2d extends StridedCircularConv {
  static className = 'OssnConv2d';
  readonly powerIterations: number;
  private kernel: LayerWeight | null = null;
  private bias: LayerWeight | null = null;
  private u: LayerWeight | null = null;
  private factor: LayerWeight | null = null;

  constructor(args: OssnConv2dArgs) {
    super('ossnConv2d', args, '{ filters: 16, kernelSize: 3 }');
    if (args.powerIterations !== undefined) assertPositiveInteger('ossnConv2d', 'powerIterations', args.powerIterations);
    this.powerIterations = args.powerIterations ?? 10;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const fn = 'ossnConv2d.build';
    const shape = singleShape(fn, inputShape);
    const s = this.strides;
    const cin = knownDim(fn, shape, 3, 'channel count') * s * s;
    const h = knownDim(fn, shape, 1, 'height (the power-iteration vector needs it)') / s;
    const w = knownDim(fn, shape, 2, 'width (the power-iteration vector needs it)') / s;
    const k = this.kernelSize / s;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < k || w < k) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the input (${shape[1]}×${shape[2]}) must be a multiple of strides ${s} and at least the kernel size.`);
    }
    // One stream: kernel, bias, then u, as @lipschitz/layers' ossnConv2d with inputSize.
    const rng = new SeededRandom(this.seed);
    const limit = 1 / Math.sqrt(cin * k * k);
    this.kernel = this.addWeight('kernel', [k, k, cin, this.filters], 'float32', valuesInitializer(() => uniformTensor([k, k, cin, this.filters], limit, rng)), undefined, true);
    this.bias = this.useBias ? this.addWeight('bias', [this.filters], 'float32', valuesInitializer(() => uniformTensor([this.filters], limit, rng)), undefined, true) : null;
    const count = h * w * this.filters;
    this.u = this.addWeight(
      'u',
      [1, h, w, this.filters],
      'float32',
      valuesInitializer(() => {
        const values = new Float32Array(count);
        for (let i = 0; i < count; i++) values[i] = rng.normal();
        return tf.tensor(values, [1, h, w, this.filters]);
      }),
      undefined,
      false,
    );
    this.factor = this.addWeight('factor', [], 'float32', valuesInitializer(() => tf.scalar(1)), undefined, false);
    this.built = true;
    // One round at creation, so the stored factor is defined for evaluation (as @lipschitz/layers).
    tf.tidy(() => {
      this.iterate();
    });
  }

  /** `powerIterations` rounds of v ← normalize(Kᵀu), u ← normalize(K v); stores u and max(⟨u, Kv⟩, 1). Off-tape only. Returns v. */
  private iterate(): tf.Tensor {
    const w = this.kernel!.read() as tf.Tensor4D;
    let u = this.u!.read();
    let v = u;
    for (let i = 0; i < this.powerIterations; i++) {
      v = normalize(circularConv2dAdjoint(u as tf.Tensor4D, w));
      u = normalize(circularConv2d(v as tf.Tensor4D, w));
    }
    const sigma = tf.sum(tf.mul(u, circularConv2d(v as tf.Tensor4D, w)));
    this.u!.write(u);
    this.factor!.write(tf.maximum(sigma, 1));
    return v;
  }

  /** Training: power iteration off the tape, then `w / max(⟨u, K v⟩, 1)` with the gradient through σ̂; else the cached `w / factor`. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    if (!isTraining(kwargs)) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = singleInput(inputs);
      const w = this.kernel!.read() as tf.Tensor4D;
      const v = offTape(w, () => this.iterate());
      const sigma = tf.sum(tf.mul(this.u!.read(), circularConv2d(v as tf.Tensor4D, w)));
      const kernel = tf.div(w, tf.maximum(sigma, 1));
      return this.forward(x, this.bias ? [kernel, this.bias.read()] : [kernel]);
    });
  }

  /** The evaluation kernels `[w / factor, bias]`. */
  protected computeKernels(): tf.Tensor[] {
    if (!this.kernel || !this.factor) throw new LipschitzError('INVALID_ARGUMENT', `ossnConv2d: the layer '${this.name}' is not built yet.`);
    const kernel = tf.div(this.kernel.read(), this.factor.read());
    return this.bias ? [kernel, this.bias.read()] : [kernel];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), powerIterations: this.powerIterations };
  }
}
registerLayerOnce(OssnConv2d);

/**
 * OSSN convolution ("one-sided spectral normalisation", the baseline of Li et al. 2019 after Miyato et al.
 * 2018) as a `tf.layers.Layer`: a circular convolution whose kernel is divided by `max(σ̂, 1)`, σ̂ = ⟨u, K v⟩
 * from `powerIterations` power iterations per training forward (inside `model.fit`) on a persistent vector u
 * kept as a non-trainable weight — as `@lipschitz/layers`' `ossnConv2d` (same initial values per seed, same
 * outputs, the true adjoint for even kernels). Outside training the stored factor is used (cached).
 * The input's height and width must be known (give the model an `inputShape`).
 *
 * Not a guarantee: σ̂ is a lower estimate of ‖K‖₂, so the exact norm ({@link lipschitzUpperBound}, by FFT)
 * may be slightly above 1; the bound is sound either way.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` on bad options; `SHAPE_MISMATCH` (at build) when the spatial size is unknown.
 * @example
 * ```ts
 * model.add(ossnConv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 4, strides: 2 }));
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §4); Miyato et al., ICLR 2018.
 */
export function ossnConv2d(args: OssnConv2dArgs): OssnConv2d {
  return new OssnConv2d(args);
}
