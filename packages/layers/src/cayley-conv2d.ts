import { type ExportedLayer, LipschitzError, SeededRandom, assertNotDisposed, encodeTensor } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { type RealDftMatrices, kernelFromHalfSpectrum, realDftMatrices, transposeLast } from '@lipschitz/linalg';
import { complexCayley } from '@lipschitz/orthogonalize';
import { linkStridedInputSize, recordInputSize } from './input-size';
import { LayerBase, type LayerModule } from './layer-base';
import { type ConvLayerOptions, assertNhwc } from './conv-options';
import { boundOfExportedLayers } from './host-bound';
import { withStride } from './strided-conv';

/** Options of {@link cayleyConv2d} (the shared convolution options). */
export type CayleyConv2dOptions = ConvLayerOptions;

/** Stride-1 Cayley convolution (see {@link cayleyConv2d}). */
export class CayleyConv2d extends LayerBase {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Support k of the parameter kernel V (the layer's equivalent kernel is the full h × w). */
  readonly kernelSize: number;
  /** The unconstrained kernel V (HWIO `[k, k, cin, cout]`). */
  readonly kernel: tf.Variable;
  /** The bias `[cout]`, or null with `bias: false`. */
  readonly bias: tf.Variable | null;
  private alphaVariable: tf.Variable | null = null;
  private dft: RealDftMatrices | null = null;
  /** @internal Set by a strided wrapper to learn the size this layer fixes at its first use. */
  onInputSize?: (size: [number, number]) => void;

  constructor(options: CayleyConv2dOptions & { stride: 1 }) {
    super('cayleyConv2d', options, `cayleyConv2d(${options.inChannels}→${options.outChannels}, k=${options.kernelSize})`);
    this.inChannels = options.inChannels;
    this.outChannels = options.outChannels;
    this.kernelSize = options.kernelSize;
    const rng = new SeededRandom(options.seed ?? 0);
    const k = options.kernelSize;
    // nn.Conv2d default initialisation (kaiming_uniform a = √5 ⇒ U(±1/√fan_in)), as Trockman & Kolter.
    const limit = 1 / Math.sqrt(options.inChannels * k * k);
    const size = k * k * options.inChannels * options.outChannels;
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = (2 * rng.uniform() - 1) * limit;
    this.kernel = this.addVariable(tf.tensor(values, [k, k, options.inChannels, options.outChannels]));
    if (options.bias ?? true) {
      const b = new Float32Array(options.outChannels);
      for (let i = 0; i < b.length; i++) b[i] = (2 * rng.uniform() - 1) * limit;
      this.bias = this.addVariable(tf.tensor1d(b));
    } else {
      this.bias = null;
    }
    if (options.inputSize) this.ensureSize('cayleyConv2d', options.inputSize);
  }

  /** The learned scale α (Trockman & Kolter), once the input size is known. */
  get alpha(): tf.Variable | null {
    return this.alphaVariable;
  }

  /** The fixed spatial input size `[h, w]`, once known. */
  get inputSize(): [number, number] | null {
    return this.dft ? [this.dft.h, this.dft.w] : null;
  }

  /**
   * Fixes the input size: builds the DFT matrices and creates α = ‖Ŵ‖ (Frobenius norm over the half
   * spectrum, as the reference's `rfft2`), so that the initial scaled spectrum is Ŵ itself.
   */
  private ensureSize(fn: string, size: readonly number[]): RealDftMatrices {
    if (this.dft) {
      if (this.dft.h !== size[0] || this.dft.w !== size[1]) {
        throw new LipschitzError(
          'SHAPE_MISMATCH',
          `${fn}: this Cayley layer works at a fixed input size ${this.dft.h}×${this.dft.w}, got ${size[0]}×${size[1]}. Create a layer with inputSize [${size[0]}, ${size[1]}] for that size.`,
        );
      }
      return this.dft;
    }
    if (size[0] < this.kernelSize || size[1] < this.kernelSize) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the input (${size[0]}×${size[1]}) must be at least as large as the kernel (${this.kernelSize}).`);
    }
    const dft = realDftMatrices(size[0], size[1], this.kernelSize);
    this.dft = dft;
    const norm = tf.tidy(() => {
      const { re, im } = this.spectrum(dft);
      return tf.sqrt(tf.add(tf.sum(tf.square(re)), tf.sum(tf.square(im))));
    });
    this.alphaVariable = this.addVariable(norm);
    recordInputSize(this, size);
    return dft;
  }

  /** Ŵ as `M = Ŵᵀ` per frequency: `[F, cin, cout]` real and imaginary parts. */
  private spectrum(dft: RealDftMatrices): { re: tf.Tensor3D; im: tf.Tensor3D } {
    const k = this.kernelSize;
    const flat = tf.reshape(this.kernel, [k * k, this.inChannels * this.outChannels]);
    const shape: [number, number, number] = [dft.frequencies, this.inChannels, this.outChannels];
    return {
      re: tf.reshape(tf.matMul(dft.kernelCos, flat), shape),
      im: tf.reshape(tf.matMul(dft.kernelSin, flat), shape),
    };
  }

  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    assertNhwc(fn, inputShape, this.inChannels);
  }

  override apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed('cayleyConv2d.apply', this.disposed);
    this.checkInputShape('cayleyConv2d.apply', x.shape.slice(1));
    this.ensureSize('cayleyConv2d.apply', x.shape.slice(1, 3));
    return super.apply(x);
  }

  /**
   * `[M, bias?]` with `M` the `[F, 2cin, 2cout]` real block form `[[Mr, Mi], [−Mi, Mr]]` of the
   * orthogonal transfer matrices `M(f) = Q(f)ᵀ`, `Q(f) = cayley(α Ŵ(f) / ‖Ŵ‖)`.
   */
  protected override computeKernels(): tf.Tensor[] {
    const dft = this.dft;
    if (!dft || !this.alphaVariable) {
      throw new LipschitzError(
        'UNSUPPORTED_CONFIGURATION',
        'cayleyConv2d: the input size is not known yet. Pass inputSize to cayleyConv2d, or apply the layer once.',
      );
    }
    const { re, im } = this.spectrum(dft);
    const scale = tf.div(this.alphaVariable, tf.sqrt(tf.add(tf.sum(tf.square(re)), tf.sum(tf.square(im)))));
    const sr = tf.mul(re, scale) as tf.Tensor3D;
    const si = tf.mul(im, scale) as tf.Tensor3D;
    let mr: tf.Tensor3D;
    let mi: tf.Tensor3D;
    if (this.inChannels <= this.outChannels) {
      // Z = Ŵ = Mᵀ (cout × cin, tall): Q has orthonormal columns, M = Qᵀ.
      const q = complexCayley(transposeLast(sr), transposeLast(si));
      mr = transposeLast(q.re);
      mi = transposeLast(q.im);
    } else {
      // Z = Ŵᵀ = M (cin × cout, tall): T = Qᵀ has orthonormal rows, M = Q.
      const q = complexCayley(sr, si);
      mr = q.re;
      mi = q.im;
    }
    const block = tf.concat([tf.concat([mr, mi], 2), tf.concat([tf.neg(mi), mr], 2)], 1);
    return this.bias ? [block, this.bias] : [block];
  }

  /** ŷ(f) = x̂(f) M(f) by real DFT matrices (differentiable on every backend), then the inverse DFT. */
  protected forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor {
    const dft = this.dft as RealDftMatrices;
    const { h, w, wh, frequencies: f } = dft;
    const [b, , , c] = x.shape as [number, number, number, number];
    const co = this.outChannels;
    const xt = tf.reshape(tf.transpose(x, [2, 0, 1, 3]), [w, b * h * c]);
    const alongW = tf.matMul(dft.forwardW, xt); // [2wh, b·h·c] = [2, wh, b, h, c]
    const moved = tf.reshape(tf.transpose(tf.reshape(alongW, [2, wh, b, h, c]), [0, 3, 1, 2, 4]), [2 * h, wh * b * c]);
    const spectrum = tf.matMul(dft.forwardH, moved); // [2, h, wh, b, c]
    const perFrequency = tf.reshape(tf.transpose(tf.reshape(spectrum, [2, f, b, c]), [1, 2, 0, 3]), [f, b, 2 * c]);
    const product = tf.matMul(perFrequency as tf.Tensor3D, kernels[0] as tf.Tensor3D); // [f, b, 2co]
    const back = tf.reshape(tf.transpose(tf.reshape(product, [f, b, 2, co]), [2, 0, 1, 3]), [2 * h, wh * b * co]);
    const inverseH = tf.matMul(dft.inverseH, back); // [2, h, wh, b, co]
    const movedBack = tf.reshape(tf.transpose(tf.reshape(inverseH, [2, h, wh, b, co]), [0, 2, 3, 1, 4]), [2 * wh, b * h * co]);
    const spatial = tf.matMul(dft.inverseW, movedBack); // [w, b·h·co]
    const y = tf.transpose(tf.reshape(spatial, [w, b, h, co]), [1, 2, 0, 3]);
    return kernels[1] ? tf.add(y, kernels[1]) : y;
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('cayleyConv2d.outputShape', inputShape);
    return [inputShape[0], inputShape[1], this.outChannels];
  }

  /**
   * The equivalent spatial kernel: the full `h × w` HWIO kernel of the same circular convolution
   * (inverse DFT of the transfer matrices, float64, rounded to float32 as exported), and the bias.
   */
  async spatialKernel(): Promise<{ kernel: Float32Array; shape: [number, number, number, number]; bias: Float32Array | null }> {
    assertNotDisposed('cayleyConv2d.spatialKernel', this.disposed);
    const dft = this.dft;
    if (!dft) {
      throw new LipschitzError(
        'UNSUPPORTED_CONFIGURATION',
        'cayleyConv2d.spatialKernel: the input size is not known yet. Pass inputSize to cayleyConv2d, or apply the layer once.',
      );
    }
    const [block, bias] = await this.kernelValues();
    const cin = this.inChannels;
    const co = this.outChannels;
    const cc = cin * co;
    const mr = new Float64Array(dft.frequencies * cc);
    const mi = new Float64Array(dft.frequencies * cc);
    for (let f = 0; f < dft.frequencies; f++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < co; o++) {
          const row = (f * 2 * cin + i) * 2 * co;
          mr[f * cc + i * co + o] = block[row + o];
          mi[f * cc + i * co + o] = block[row + co + o];
        }
      }
    }
    const full = kernelFromHalfSpectrum(mr, mi, dft.h, dft.w, cin, co);
    return { kernel: Float32Array.from(full), shape: [dft.h, dft.w, cin, co], bias: bias ?? null };
  }

  /**
   * Exact σ_max (float64 FFT + SVD per frequency, plus a 1e-12 relative slack) of the exported
   * circular convolution (the float32 full `h × w` kernel of {@link CayleyConv2d.spatialKernel}):
   * 1 up to float32 rounding.
   */
  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed('cayleyConv2d.lipschitzUpperBound', this.disposed);
    this.checkInputShape('cayleyConv2d.lipschitzUpperBound', inputShape);
    this.ensureSize('cayleyConv2d.lipschitzUpperBound', inputShape.slice(0, 2));
    return boundOfExportedLayers(this, inputShape);
  }

  /** One `conv2d` layer with the full `h × w` kernel and `'circular'` padding (see `spatialKernel`). */
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('cayleyConv2d.exportLayers', this.disposed);
    this.checkInputShape('cayleyConv2d.exportLayers', inputShape);
    this.ensureSize('cayleyConv2d.exportLayers', inputShape.slice(0, 2));
    const { kernel, shape, bias } = await this.spatialKernel();
    const layer: ExportedLayer = { type: 'conv2d', padding: 'circular', kernel: encodeTensor(shape, kernel) };
    if (bias) layer.bias = encodeTensor([this.outChannels], bias);
    return [layer];
  }

  override dispose(): void {
    if (this.disposed) return;
    super.dispose();
    if (this.dft) {
      const d = this.dft;
      for (const t of [d.kernelCos, d.kernelSin, d.forwardW, d.forwardH, d.inverseH, d.inverseW]) t.dispose();
    }
  }
}

/**
 * An orthogonal convolution parameterised by the Cayley transform in the Fourier domain (Trockman &
 * Kolter 2021). For an input size `[h, w]`, the kernel V's transfer matrices `Ŵ(f)` (`cout × cin`,
 * with the centring shift ⌊(k − 1)/2⌋ of their code, over the half spectrum of `rfft2`) are scaled
 * to `α·Ŵ(f)/‖Ŵ‖` (α a learned scalar initialised to ‖Ŵ‖) and mapped to `Q(f) = [(I + A)⁻¹(I − A); −2V(I + A)⁻¹]` with
 * `A = U − Uᴴ + VᴴV` (U the top square block, V the rest): the first `min(cin, cout)` columns of the
 * Cayley transform of a skew-Hermitian matrix, so `Q(f)` has orthonormal columns. When cin > cout the
 * transpose is used. The layer is `y = IDFT(Q(f) DFT(x)) + b`: an exact isometry (cin ≤ cout) or
 * co-isometry (cin > cout), every singular value 1 up to float32 rounding, so 1-Lipschitz.
 *
 * TensorFlow.js has no differentiable FFT (runtime.md), so the 2-D DFT is done with real cos/sin DFT
 * matrices and matMul, the complex algebra on real/imaginary parts, and the per-frequency inverse by a
 * batched Gauss–Jordan with the analytic gradient `−Bᵀ dB Bᵀ`. It works at a fixed input size
 * (`inputSize`, or the first `apply`; α is created then — pass `inputSize` so α is in
 * `trainableVariables` from the start). Exported as one `conv2d` with the full `h × w` spatial
 * kernel and `'circular'` padding (after an `invertibleDownsample` when strided).
 *
 * Ownership: the returned module owns its variables and constants; call `dispose()`.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` for bad options (see `validateConvOptions`).
 * @example
 * ```ts
 * const conv = cayleyConv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, inputSize: [16, 16] });
 * const y = conv.apply(x); // [b, 16, 16, 32], ‖y(x1) − y(x2)‖ ≤ ‖x1 − x2‖
 * ```
 * @see A. Trockman, J. Z. Kolter, "Orthogonalizing Convolutional Layers with the Cayley Transform",
 *   ICLR 2021 (its `CayleyConv` and `cayley` code).
 */
export function cayleyConv2d(options: CayleyConv2dOptions): LayerModule {
  let layer: CayleyConv2d | null = null;
  const module = withStride('cayleyConv2d', options, (inner) => {
    layer = new CayleyConv2d(inner);
    return layer;
  });
  linkStridedInputSize(module, layer, options.stride ?? 1);
  return module;
}
