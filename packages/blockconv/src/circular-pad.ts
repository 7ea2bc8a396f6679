import { LipschitzError, assertPositiveInteger, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/** A square kernel size `k`, or `[kh, kw]`. */
export type KernelSize = number | readonly [number, number];

/**
 * The circular padding of the reference for a kernel of size `k` along one axis:
 * `before = ⌊k/2⌋` rows/columns (taken from the end), `after = k − 1 − ⌊k/2⌋` (taken from the start).
 * Odd k: k//2 on each side; even k: k/2 before and k/2 − 1 after (k = 2: one before, none after).
 *
 * @example
 * ```ts
 * circularPadding(3); // { before: 1, after: 1 }
 * circularPadding(2); // { before: 1, after: 0 }
 * ```
 * Reference: LConvNet `cyclic_pad_2d` (reference-bcop.md §1.4); design.md, `conv2d` with `padding: 'circular'`.
 * @throws LipschitzError `INVALID_ARGUMENT` when `kernelSize` is not a positive integer.
 */
export function circularPadding(kernelSize: number): { before: number; after: number } {
  assertPositiveInteger('circularPadding', 'kernelSize', kernelSize);
  const before = Math.floor(kernelSize / 2);
  return { before, after: kernelSize - 1 - before };
}

/** @internal Normalises a kernel size to `[kh, kw]`, validating it for `fn`. */
export function kernelSizePair(fn: string, kernelSize: KernelSize): [number, number] {
  if (typeof kernelSize === 'number') {
    assertPositiveInteger(fn, 'kernelSize', kernelSize);
    return [kernelSize, kernelSize];
  }
  if (!Array.isArray(kernelSize) || kernelSize.length !== 2) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: kernelSize must be a positive integer or a pair [kh, kw], got ${String(kernelSize)}.`);
  }
  assertPositiveInteger(fn, 'kernelSize[0]', kernelSize[0]);
  assertPositiveInteger(fn, 'kernelSize[1]', kernelSize[1]);
  return [kernelSize[0], kernelSize[1]];
}

/**
 * The periodic extension along one axis by tiling, then cutting the window that starts `before`
 * positions before index 0; used only when the padding wraps around more than once
 * (`before + after > size`: a kernel larger than the input).
 */
function padAxisTiled(x: tf.Tensor4D, axis: 1 | 2, before: number, after: number): tf.Tensor4D {
  if (before === 0 && after === 0) return x;
  const size = x.shape[axis];
  const length = size + before + after;
  const start = (((-before) % size) + size) % size;
  const reps = [1, 1, 1, 1];
  reps[axis] = Math.ceil((start + length) / size);
  const begin = [0, 0, 0, 0];
  const extent = [-1, -1, -1, -1];
  begin[axis] = start;
  extent[axis] = length;
  return tf.slice(tf.tile(x, reps), begin, extent);
}

/**
 * Columns `[start, start + length)` of a matrix, for a narrow border strip: a `stridedSlice` that
 * keeps every row runs in wasm and reads only the strip, whereas wasm's `Slice` first copies its whole
 * input to the JS heap (`readSync`). (Fresh begin/end arrays: tfjs keeps them for the backward pass.)
 */
function border(m: tf.Tensor2D, start: number, length: number): tf.Tensor2D {
  return tf.stridedSlice(m, [0, start], [m.shape[0], start + length], [1, 1]) as tf.Tensor2D;
}

/**
 * Columns `[start, start + length)` of a matrix, for a wide strip: a `slice` (row-wise block copies;
 * wasm's strided slice copies element by element, which is slower for most of a matrix).
 */
function center(m: tf.Tensor2D, start: number, length: number): tf.Tensor2D {
  return tf.slice(m, [0, start], [-1, length]);
}

/**
 * Circular padding of the blocks of a matrix: `m` is `[rows, size·unit]` (each row `size` blocks of
 * `unit` contiguous entries); returns `[rows, (before + size + after)·unit]` with the last `before`
 * blocks copied in front and the first `after` blocks at the end — one concat of two border slices
 * and `m` (requires `before + after ≤ size`).
 */
function wrapBlocks(m: tf.Tensor2D, size: number, unit: number, before: number, after: number): tf.Tensor2D {
  if (before + after === 0) return m;
  const parts: tf.Tensor2D[] = [];
  if (before > 0) parts.push(border(m, (size - before) * unit, before * unit));
  parts.push(m);
  if (after > 0) parts.push(border(m, 0, after * unit));
  return tf.concat(parts, 1);
}

/**
 * The adjoint of {@link wrapBlocks}: folds the gradient `d` `[rows, (before + size + after)·unit]` of
 * the padded blocks back onto the `size` blocks, adding each wrapped border block to the block it
 * was copied from: blocks `[0, after)` get `center + tail`, blocks `[size − before, size)` get
 * `center + head`, the others the center alone (requires `before + after ≤ size`).
 */
function foldBlocks(d: tf.Tensor2D, size: number, unit: number, before: number, after: number): tf.Tensor2D {
  if (before + after === 0) return d;
  const parts: tf.Tensor2D[] = [];
  if (after > 0) parts.push(tf.add(border(d, before * unit, after * unit), border(d, (before + size) * unit, after * unit)));
  const middle = size - before - after;
  if (middle > 0) parts.push(center(d, (before + after) * unit, middle * unit));
  if (before > 0) parts.push(tf.add(border(d, size * unit, before * unit), border(d, 0, before * unit)));
  return parts.length === 1 ? parts[0] : tf.concat(parts, 1);
}

/** Rows (or columns) wrapped before and after. */
export interface Padding {
  before: number;
  after: number;
}

/**
 * Circular padding as one differentiable node (`before + after ≤ size` on both axes). Rows are
 * wrapped on the `[n, h·w·c]` view (each row of the image one contiguous block) and columns on the
 * `[n·h', w·c]` view (each pixel one block), so each axis is two narrow border strips and one concat
 * of whole contiguous blocks (reshapes are free); the gradient folds the wrapped borders back in the
 * reverse order ({@link foldBlocks}) instead of autodiff's full-size zero-padded gradient of every
 * slice plus the split of the concat.
 */
function circularPadFused(x: tf.Tensor4D, h: Padding, w: Padding): tf.Tensor4D {
  const [n, height, width, c] = x.shape;
  const paddedHeight = height + h.before + h.after;
  const paddedWidth = width + w.before + w.after;
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: wrapBoth(args[0] as tf.Tensor4D, h, w),
    gradFunc: (dy: tf.Tensor) => {
      const foldedCols = foldBlocks(tf.reshape(dy, [n * paddedHeight, paddedWidth * c]), width, c, w.before, w.after);
      const foldedRows = foldBlocks(tf.reshape(foldedCols, [n, paddedHeight * width * c]), height, width * c, h.before, h.after);
      return [tf.reshape(foldedRows, [n, height, width, c])];
    },
  }));
  return node(x) as tf.Tensor4D;
}

/** The forward of {@link circularPadFused} (no gradient of its own): rows, then columns. */
function wrapBoth(x: tf.Tensor4D, h: Padding, w: Padding): tf.Tensor4D {
  const [n, height, width, c] = x.shape;
  const paddedHeight = height + h.before + h.after;
  const rows = wrapBlocks(tf.reshape(x, [n, height * width * c]), height, width * c, h.before, h.after);
  const cols = wrapBlocks(tf.reshape(rows, [n * paddedHeight, width * c]), width, c, w.before, w.after);
  return tf.reshape(cols, [n, paddedHeight, width + w.before + w.after, c]);
}

/** Whether {@link circularPadFused} applies: float32 and the padding wraps at most once per axis. */
function fusable(x: tf.Tensor4D, h: Padding, w: Padding): boolean {
  return x.dtype === 'float32' && h.before + h.after <= x.shape[1] && w.before + w.after <= x.shape[2];
}

/**
 * The circular convolution as one differentiable node (see {@link circularConv2d}). Backward:
 * - `∂x` is the adjoint, itself a circular convolution: `∂y` circularly padded with the before/after
 *   amounts swapped, then a 'valid' convolution with the kernel flipped in space and transposed
 *   (`K'[u, v, o, c] = K[kh − 1 − u, kw − 1 − v, c, o]`) — instead of the zero-padded input gradient
 *   on the padded grid followed by folding the wrapped borders back;
 * - `∂K` is the usual filter gradient of the 'valid' convolution of the padded input (the
 *   `Conv2DBackpropFilter` kernel, as tfjs's own conv2d gradient); `∂b = Σ_{n,p,q} ∂y`.
 */
function circularConvFused(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | undefined, h: Padding, w: Padding, kernelGradient: boolean): tf.Tensor4D {
  // Without kernel gradients the kernel and bias are constants of the node: its gradient is ∂x alone.
  const inputs: tf.Tensor[] = !kernelGradient ? [x] : bias == null ? [x, kernel] : [x, kernel, bias];
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    const k = kernelGradient ? (args[1] as tf.Tensor4D) : kernel;
    const b = kernelGradient && bias != null ? (args[2] as tf.Tensor1D) : bias;
    const padded = wrapBoth(args[0] as tf.Tensor4D, h, w);
    save(kernelGradient ? [padded, k] : [k]);
    return {
      // The bias is added by the convolution kernel itself (one pass over the output fewer).
      value: b == null ? tf.conv2d(padded, k, 1, 'valid') : tf.fused.conv2d({ x: padded, filter: k, bias: b, strides: 1, pad: 'valid' }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const kk = saved[saved.length - 1] as tf.Tensor4D;
        const swappedH = { before: h.after, after: h.before };
        const swappedW = { before: w.after, after: w.before };
        const adjointKernel = tf.transpose(tf.reverse(kk, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
        const dx = tf.conv2d(wrapBoth(dy as tf.Tensor4D, swappedH, swappedW), adjointKernel, 1, 'valid');
        if (!kernelGradient) return [dx];
        const dk = tf.engine().runKernel('Conv2DBackpropFilter', { x: saved[0], dy }, {
          strides: [1, 1],
          pad: 'valid',
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          filterShape: kk.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
        return bias == null ? [dx, dk] : [dx, dk, tf.sum(dy, [0, 1, 2])];
      },
    };
  });
  return node(...inputs) as tf.Tensor4D;
}

/**
 * Circular (periodic) padding of an NHWC tensor for a stride-1 'valid' convolution with a kernel of
 * size `kernelSize`, exactly as the reference: along each spatial axis `⌊k/2⌋` rows/columns taken
 * from the end are put before and `k − 1 − ⌊k/2⌋` taken from the start after (see
 * {@link circularPadding}). Output shape `[b, h + kh − 1, w + kw − 1, c]`, so a 'valid' convolution
 * returns `[b, h, w, cout]`. For float32 inputs it is one differentiable node (two border strips and
 * one concat per axis, on reshaped views) whose hand-written gradient adds the wrapped borders back;
 * otherwise, or when the padding wraps around more than once (`⌊k/2⌋ + k − 1 − ⌊k/2⌋ > size`, a kernel
 * larger than the input), `tile` + `slice` with autodiff. It runs and differentiates on every backend.
 *
 * `padded[b, y, x, c] = x[b, (y − ⌊kh/2⌋) mod h, (x − ⌊kw/2⌋) mod w, c]`.
 *
 * Ownership: `x` is borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const padded = circularPad(tf.zeros([1, 4, 4, 3]), 3); // [1, 6, 6, 3]
 * ```
 * Reference: LConvNet `cyclic_pad_2d` (reference-bcop.md §1.4).
 * @throws LipschitzError `SHAPE_MISMATCH` when `x` is not rank 4; `INVALID_ARGUMENT` for a bad `kernelSize`.
 */
export function circularPad(x: tf.Tensor4D, kernelSize: KernelSize): tf.Tensor4D {
  const fn = 'circularPad';
  assertRank(fn, 'x (NHWC)', x.shape, 4);
  const [kh, kw] = kernelSizePair(fn, kernelSize);
  if (x.shape[1] === 0 || x.shape[2] === 0) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: x must have a non-empty spatial size, got [${x.shape.join(', ')}].`);
  }
  const h = circularPadding(kh);
  const w = circularPadding(kw);
  return tf.tidy(() => {
    if (h.before + h.after === 0 && w.before + w.after === 0) return tf.clone(x);
    return circularPadBy(x, h, w);
  });
}

/** Options of {@link circularConv2d}. */
export interface CircularConv2dOptions {
  /**
   * Whether the gradient node differentiates with respect to the kernel and bias (default `true`).
   * `false` for constant (frozen) kernels: the backward pass then runs the input gradient alone.
   */
  kernelGradient?: boolean;
}

/**
 * @internal Circular padding by explicit amounts per axis (the one implementation behind
 * {@link circularPad} and `circularConv2dAdjoint`): the fused node when the padding wraps at most once
 * on float32, else `tile` + `slice`. Returns `x` itself when nothing is padded. Call inside `tf.tidy`.
 */
export function circularPadBy(x: tf.Tensor4D, h: Padding, w: Padding): tf.Tensor4D {
  if (h.before + h.after === 0 && w.before + w.after === 0) return x;
  if (fusable(x, h, w)) return circularPadFused(x, h, w);
  return padAxisTiled(padAxisTiled(x, 1, h.before, h.after), 2, w.before, w.after);
}

/**
 * Stride-1 convolution with circular padding: `circularConv2d(x, K, b) = conv2d_valid(circularPad(x, k), K) + b`,
 * i.e. `y[n, p, q, o] = Σ_{u,v,c} x[n, (p + u − ⌊kh/2⌋) mod h, (q + v − ⌊kw/2⌋) mod w, c] · K[u, v, c, o] + b[o]`
 * (a cross-correlation, as `F.conv2d`). The output has the input's spatial size. This is the
 * operator whose singular values BCOP makes all 1.
 *
 * Gradients (float32, padding wrapping at most once — every layer of the paper's models): one node
 * whose input gradient is the adjoint circular convolution (`∂y` circularly padded with the
 * before/after amounts swapped, 'valid' convolution with the spatially flipped, in/out-transposed
 * kernel), which avoids the zero-padded input gradient on the padded grid and folding its wrapped
 * borders back; kernel and bias gradients as autodiff (`Conv2DBackpropFilter` of the padded input,
 * `Σ ∂y`). Otherwise autodiff of {@link circularPad} + `conv2d`. Tested equal to autodiff.
 *
 * Ownership: arguments are borrowed; the result is owned by the caller.
 *
 * @param x NHWC input `[batch, h, w, cin]`.
 * @param kernel HWIO kernel `[kh, kw, cin, cout]`.
 * @param bias optional `[cout]`.
 * @param options `kernelGradient: false` treats `kernel` and `bias` as constants: the gradient node then
 *   computes `∂x` only (no `Conv2DBackpropFilter`), e.g. for attacks on frozen kernels; gradients with
 *   respect to `kernel` or `bias` are then absent (as for any constant). Default `true`.
 * @example
 * ```ts
 * const y = circularConv2d(x, kernel); // [b, h, w, cout]
 * ```
 * Reference: LConvNet `conv2d_cyclic_pad` (reference-bcop.md §1.3 step 7, §1.4).
 * @throws LipschitzError `SHAPE_MISMATCH` when ranks or channel counts do not match.
 */
export function circularConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, bias?: tf.Tensor1D, options?: CircularConv2dOptions): tf.Tensor4D {
  const fn = 'circularConv2d';
  assertRank(fn, 'x (NHWC)', x.shape, 4);
  assertRank(fn, 'kernel (HWIO)', kernel.shape, 4);
  if (x.shape[3] !== kernel.shape[2]) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: x has ${x.shape[3]} channels but kernel [${kernel.shape.join(', ')}] expects ${kernel.shape[2]} input channels (HWIO). Pass an HWIO kernel [kh, kw, cin, cout].`,
    );
  }
  if (bias != null && (bias.rank !== 1 || bias.shape[0] !== kernel.shape[3])) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: bias must have shape [${kernel.shape[3]}], got [${bias.shape.join(', ')}].`);
  }
  const h = circularPadding(kernel.shape[0]);
  const w = circularPadding(kernel.shape[1]);
  return tf.tidy(() => {
    if (fusable(x, h, w) && kernel.dtype === 'float32') return circularConvFused(x, kernel, bias, h, w, options?.kernelGradient ?? true);
    const padded = circularPad(x, [kernel.shape[0], kernel.shape[1]]);
    const y = tf.conv2d(padded, kernel, 1, 'valid');
    return bias == null ? y : tf.add(y, bias);
  });
}
