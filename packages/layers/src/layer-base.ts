/**
 * Shared building blocks of `@lipschitz/layers`. READ THIS before writing a layer in this package.
 *
 * How to write a convolution layer (e.g. `ossnConv2d`, `svcmConv2d`, `cayleyConv2d`):
 *
 * 1. Options: use (or extend) {@link ConvLayerOptions}
 *    `{ inChannels, outChannels, kernelSize, stride?, bias?, seed?, inputSize? }` and check them with
 *    `validateConvOptions('ossnConv2d', options)` (throws `INVALID_ARGUMENT` with the right message).
 * 2. Write the **stride-1** layer as a subclass of {@link CircularConvLayer}: create your variables
 *    with `this.addVariable(initialTensor)` (or `this.addState(tensor)` for non-trainable state such as
 *    a power-iteration vector, saved by `saveModel` but not trained) and implement
 *    `computeKernels()`, which returns `[kernelHWIO]` or `[kernelHWIO, bias]` computed from the
 *    variables with differentiable tfjs ops (it runs inside `tf.tidy`). The base class provides
 *    `apply` (circular padding as the reference, kernel caching while frozen), `freeze`/`unfreeze`,
 *    the sound host bound `lipschitzUpperBound` (exact σ_max of the circular conv by FFT at the input
 *    size), `exportLayers`, `outputShape`, `dispose`. Override `afterStep(step)` if your layer needs it.
 * 3. Strides: build your factory with {@link withStride}, which applies the reference's
 *    `LipschitzConv2d` rule (kernelSize % stride == 0, invertible downsampling by `stride`, then your
 *    stride-1 layer with `stride²·inChannels` input channels and kernel `kernelSize / stride`):
 *    ```ts
 *    export function ossnConv2d(options: ConvLayerOptions): LayerModule {
 *      return withStride('ossnConv2d', options, (inner) => new OssnConv2d(inner));
 *    }
 *    ```
 *    `inner` is the options of the stride-1 layer (`stride: 1`, `inputSize` already divided).
 *    Give the stride-1 layer `config = { type: 'ossnConv2d', options: inner }` (the base class does it
 *    from the constructor arguments), so `saveModel`/`loadModel` can rebuild it.
 * 4. Initial values: use {@link SeededRandom} from `@lipschitz/core` with `options.seed` (default 0),
 *    and the host helpers {@link orthogonalMatrix} / {@link uniformTensor} here.
 *
 * Every module of this package implements {@link LayerModule} = `LipschitzModule` (core) + `config`
 * (JSON that rebuilds the module, see `layerFromConfig`) + `variables` (everything `saveModel` writes).
 */
import {
  LipschitzError,
  type ExportedLayer,
  type LipschitzModule,
  type SeededRandom,
  type StepContext,
  assertNotDisposed,
  assertPositiveInteger,
  encodeTensor,
} from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { circularConv2d, invertibleDownsample } from '@lipschitz/blockconv';
import { convSpectralNorm } from '@lipschitz/linalg';
import { HOST_NORM_SLACK, networkLipschitzUpperBound } from '@lipschitz/model-format';

/** The JSON description of a module: a factory name and the options it was called with. */
export interface LayerConfig {
  type: string;
  options: Record<string, unknown>;
}

/**
 * A module of this package: a {@link LipschitzModule} that can also be rebuilt from its `config` and
 * saved (`variables`).
 */
export interface LayerModule extends LipschitzModule {
  /** JSON that rebuilds this module (same architecture, fresh variables) with `layerFromConfig`. */
  readonly config: LayerConfig;
  /**
   * Every variable that defines the module's state, trainable ones first (in `trainableVariables`
   * order), then non-trainable state. `saveModel` writes these, in this order.
   */
  readonly variables: tf.Variable[];
}

/** Options shared by every convolution factory of this package (`bcopConv2d`, `rkoConv2d`, ...). */
export interface ConvLayerOptions {
  /** Input channels (≥ 1). */
  inChannels: number;
  /** Output channels (≥ 1). */
  outChannels: number;
  /** Square kernel size k (≥ 1); with a stride s it must be a multiple of s. */
  kernelSize: number;
  /** Stride s (default 1), done as the reference: invertible downsampling by s, then a k/s conv. */
  stride?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Seed of the initial values (default 0). */
  seed?: number;
  /** Spatial input size `[h, w]`, for layers that need it at construction (OSSN's vector); optional. */
  inputSize?: [number, number];
}

/**
 * Checks the options every convolution factory shares; throws `INVALID_ARGUMENT` with a message
 * that starts with `fn`.
 */
export function validateConvOptions(fn: string, options: ConvLayerOptions): void {
  if (options == null || typeof options !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: options must be an object such as { inChannels: 1, outChannels: 16, kernelSize: 3 }.`);
  }
  assertPositiveInteger(fn, 'inChannels', options.inChannels);
  assertPositiveInteger(fn, 'outChannels', options.outChannels);
  assertPositiveInteger(fn, 'kernelSize', options.kernelSize);
  assertPositiveInteger(fn, 'stride', options.stride ?? 1);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(options.seed)}.`);
  }
  if (options.bias !== undefined && typeof options.bias !== 'boolean') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bias must be a boolean, got ${String(options.bias)}.`);
  }
  if (options.inputSize !== undefined) {
    const s = options.inputSize;
    if (!Array.isArray(s) || s.length !== 2) {
      throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputSize must be [height, width], got ${String(s)}.`);
    }
    assertPositiveInteger(fn, 'inputSize[0]', s[0]);
    assertPositiveInteger(fn, 'inputSize[1]', s[1]);
  }
  const k = options.kernelSize;
  const stride = options.stride ?? 1;
  if (k % stride !== 0) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `${fn}: kernelSize (${k}) must be a multiple of stride (${stride}) (strides are done by invertible downsampling, as in the reference). Pass e.g. kernelSize ${stride * Math.max(1, Math.round(k / stride))}.`,
    );
  }
}

/**
 * @deprecated The host-rounding slack is `HOST_NORM_SLACK` of `@lipschitz/model-format` (the one slack
 * policy of the project, documented there); this alias equals it and is removed in the next minor release.
 */
export const HOST_BOUND_SLACK = HOST_NORM_SLACK;

/**
 * The exact-arithmetic bound of a module's exported layers at `inputShape`: the product of their exact
 * float64 norms, each times `1 + HOST_NORM_SLACK` (`exactArithmeticBound` of `networkLipschitzUpperBound`,
 * `@lipschitz/model-format`). Every layer of this package bounds itself this way, so a layer's bound and
 * the bound of the file it exports are computed by the same code.
 * @internal
 */
export async function boundOfExportedLayers(module: Pick<LayerModule, 'exportLayers'>, inputShape: readonly number[]): Promise<number> {
  const layers = await module.exportLayers(inputShape);
  return networkLipschitzUpperBound({ input: { shape: inputShape }, layers }).exactArithmeticBound;
}

/**
 * Base class of the modules in this package. Tracks variables, the frozen kernel cache and disposal.
 *
 * Subclasses implement `computeKernels()` (derived tensors from the variables, differentiable; runs
 * inside `tf.tidy`) and `forward(x, kernels)`. While frozen, `apply` reuses the cached kernels.
 */
export abstract class LayerBase implements LayerModule {
  readonly config: LayerConfig;
  readonly name: string;
  private readonly trainable: tf.Variable[] = [];
  private readonly state: tf.Variable[] = [];
  private cache: tf.Tensor[] | null = null;
  protected disposed = false;

  constructor(type: string, options: object, name: string) {
    this.config = { type, options: { ...(options as Record<string, unknown>) } };
    this.name = name;
  }

  /** Registers a trainable variable initialised from `initial` (taken: it is disposed). */
  protected addVariable(initial: tf.Tensor): tf.Variable {
    const v = tf.variable(initial, true);
    initial.dispose();
    this.trainable.push(v);
    return v;
  }

  /** Registers a non-trainable state variable (saved, not trained) from `initial` (taken). */
  protected addState(initial: tf.Tensor): tf.Variable {
    const v = tf.variable(initial, false);
    initial.dispose();
    this.state.push(v);
    return v;
  }

  get trainableVariables(): tf.Variable[] {
    return [...this.trainable];
  }

  get variables(): tf.Variable[] {
    return [...this.trainable, ...this.state];
  }

  get frozen(): boolean {
    return this.cache !== null;
  }

  /** Derived tensors (kernels) from the variables; differentiable; called inside `tf.tidy`. */
  protected computeKernels(): tf.Tensor[] {
    return [];
  }

  /** The forward pass given the kernels from `computeKernels` (or the frozen cache). */
  protected abstract forward(x: tf.Tensor, kernels: readonly tf.Tensor[]): tf.Tensor;

  /** Checks the input shape (without the batch axis) for `fn`; throws `SHAPE_MISMATCH`. */
  protected abstract checkInputShape(fn: string, inputShape: readonly number[]): void;

  abstract outputShape(inputShape: readonly number[]): number[];

  abstract lipschitzUpperBound(inputShape: readonly number[]): Promise<number>;

  abstract exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]>;

  apply(x: tf.Tensor): tf.Tensor {
    assertNotDisposed(`${this.config.type}.apply`, this.disposed);
    this.checkInputShape(`${this.config.type}.apply`, x.shape.slice(1));
    return tf.tidy(() => this.forward(x, this.cache ?? this.computeKernels()));
  }

  freeze(): void {
    assertNotDisposed(`${this.config.type}.freeze`, this.disposed);
    if (this.cache !== null) return;
    // Cloned so that a kernel that is a variable itself (e.g. a bias) is never disposed by unfreeze().
    // Call freeze() outside gradient tapes (training loops unfreeze before a step).
    // Kept, so that freezing inside a caller's tf.tidy does not dispose the cache when that tidy ends.
    this.cache = tf.tidy(() => this.computeKernels().map((k) => tf.clone(k))).map((k) => tf.keep(k));
  }

  unfreeze(): void {
    if (this.cache === null) return;
    for (const t of this.cache) t.dispose();
    this.cache = null;
  }

  /**
   * Host float32 copies of the kernels (the frozen cache when frozen, else computed once), in the
   * order of `computeKernels()`.
   */
  protected async kernelValues(): Promise<Float32Array[]> {
    const cached = this.cache;
    // Cloned: computeKernels may return a variable itself (a bias), which must not be disposed here.
    const kernels = cached ?? tf.tidy(() => this.computeKernels().map((k) => tf.clone(k)));
    try {
      return (await Promise.all(kernels.map((k) => k.data()))) as Float32Array[];
    } finally {
      if (!cached) for (const k of kernels) k.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.unfreeze();
    for (const v of [...this.trainable, ...this.state]) v.dispose();
    this.disposed = true;
  }
}

/** Shape helpers for NHWC modules. */
export function assertNhwc(fn: string, inputShape: readonly number[], channels: number): void {
  if (inputShape.length !== 3 || inputShape[2] !== channels) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: expected NHWC input with ${channels} channels (shape [batch, h, w, ${channels}]), got input shape [${inputShape.join(', ')}] (without batch).`,
    );
  }
}

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
    return circularConv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, kernels[1] as tf.Tensor1D | undefined);
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape(`${this.config.type}.outputShape`, inputShape);
    return [inputShape[0], inputShape[1], this.outChannels];
  }

  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    this.checkInputShape(`${this.config.type}.lipschitzUpperBound`, inputShape);
    return boundOfExportedLayers(this, inputShape);
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

/**
 * Exact σ_max (plus `HOST_NORM_SLACK`) of the circular convolution with HWIO `kernel` on
 * `[h, w]` inputs, from `convSpectralNorm` (float64 FFT + SVD per frequency, `@lipschitz/linalg`).
 * @deprecated The layers of this package bound themselves through `networkLipschitzUpperBound` of
 * `@lipschitz/model-format` on their exported layers; use that. Removed in the next minor release.
 */
export function circularConvNorm(kernel: ArrayLike<number>, shape: [number, number, number, number], size: [number, number]): number {
  return convSpectralNorm(kernel, shape, size) * (1 + HOST_BOUND_SLACK);
}

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

/**
 * A random `rows × cols` matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols), times
 * `gain`, as PyTorch's `nn.init.orthogonal_`: the Q factor of the QR decomposition of a standard
 * normal matrix with diag(R) > 0 (Haar distributed). Computed on the host in float64 by modified
 * Gram–Schmidt (2mn² flops; its loss of orthogonality, ~1e-16·cond(A) ≤ ~1e-12 for Gaussian
 * matrices, is far below the float32 result's precision); row-major values.
 */
export function orthogonalMatrix(rows: number, cols: number, gain: number, rng: SeededRandom): Float32Array {
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  // n column vectors of length m, each contiguous.
  const q = new Float64Array(m * n);
  for (let i = 0; i < m * n; i++) q[i] = rng.normal();
  for (let k = 0; k < n; k++) {
    const ck = k * m;
    for (let j = 0; j < k; j++) {
      const cj = j * m;
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[cj + i] * q[ck + i];
      for (let i = 0; i < m; i++) q[ck + i] -= dot * q[cj + i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[ck + i] * q[ck + i];
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[ck + i] *= scale;
  }
  const out = new Float32Array(rows * cols);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const v = gain * q[j * m + i];
      if (tall) out[i * cols + j] = v;
      else out[j * cols + i] = v;
    }
  }
  return out;
}

/**
 * `L⁻¹` (row-major, lower triangular) of the Cholesky factor `G = L Lᵀ` of a symmetric positive
 * definite `n × n` matrix, in float64; null when a pivot is not positive.
 */
function choleskyInverse(g: ArrayLike<number>, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0.5 * (g[i * n + j] + g[j * n + i]);
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else l[i * n + j] = sum / l[j * n + j];
    }
  }
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= l[i * n + k] * inv[k * n + j];
      inv[i * n + j] = sum / l[i * n + i];
    }
  }
  return inv;
}

/**
 * {@link orthogonalMatrix} as a `[rows, cols]` tensor. For clearly tall (or wide) matrices
 * (max ≥ 2·min, e.g. the 3136 × 512 dense layer) the Q factor is computed on the backend by
 * CholeskyQR2 — `Q ← A (Lᵀ)⁻¹` with `AᵀA = L Lᵀ`, twice, the n × n Cholesky in float64 on the host —
 * which is exact in exact arithmetic (R has a positive diagonal, as PyTorch's sign-corrected QR) and,
 * for these well-conditioned Gaussian matrices (cond ≤ ~6), orthonormal to float32 precision; it
 * costs two backend matrix products instead of 2mn² host flops. Other shapes use the host path.
 * Reads two n × n Gram matrices back from the backend (construction time only).
 */
export function orthogonalTensor(rows: number, cols: number, gain: number, rng: SeededRandom): tf.Tensor2D {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  if (m < 2 * n || m * n * n < 1e7) return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
  const gaussian = new Float32Array(m * n);
  for (let i = 0; i < gaussian.length; i++) gaussian[i] = rng.normal();
  let a: tf.Tensor2D = tf.tensor2d(gaussian, [m, n]);
  for (let pass = 0; pass < 2; pass++) {
    const current = a;
    const gram = tf.tidy(() => tf.matMul(tf.transpose(current), current));
    const inv = choleskyInverse(gram.dataSync(), n);
    gram.dispose();
    if (inv === null) {
      current.dispose();
      return tf.tensor2d(orthogonalMatrix(rows, cols, gain, rng), [rows, cols]);
    }
    // Q = A (Lᵀ)⁻¹ = A (L⁻¹)ᵀ
    a = tf.tidy(() => tf.matMul(current, tf.transpose(tf.tensor2d(Float32Array.from(inv), [n, n]))));
    current.dispose();
  }
  const q = a;
  const out = tf.tidy(() => {
    const scaled = tf.mul(q, gain) as tf.Tensor2D;
    return rows >= cols ? scaled : (tf.transpose(scaled) as tf.Tensor2D);
  });
  q.dispose();
  return out;
}

/** A float32 tensor of `shape` with values uniform in [−limit, limit) from `rng`. */
export function uniformTensor(shape: number[], limit: number, rng: SeededRandom): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (2 * rng.uniform() - 1) * limit;
  return tf.tensor(values, shape, 'float32');
}

/**
 * Base class of parameter-free modules (activations, reshapes). Subclasses implement `forward`,
 * `checkInputShape`, `outputShape`, `exportLayers`, and `exactLipschitz(inputShape)` — the exact
 * Lipschitz constant of the map, which `lipschitzUpperBound` returns.
 */
export abstract class StatelessLayer extends LayerBase {
  /** The exact ℓ2 Lipschitz constant for inputs of `inputShape` (1 for activations and permutations). */
  protected exactLipschitz(_inputShape: readonly number[]): number {
    return 1;
  }

  async lipschitzUpperBound(inputShape: readonly number[]): Promise<number> {
    assertNotDisposed(`${this.config.type}.lipschitzUpperBound`, this.disposed);
    this.checkInputShape(`${this.config.type}.lipschitzUpperBound`, inputShape);
    return this.exactLipschitz(inputShape);
  }
}
