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

function padAxisCircular(x: tf.Tensor4D, axis: 1 | 2, before: number, after: number): tf.Tensor4D {
  if (before === 0 && after === 0) return x;
  const size = x.shape[axis];
  // Fresh begin/size arrays per call: tfjs keeps the attribute arrays for the backward pass.
  const along = (start: number, length: number): [number[], number[]] => {
    const begin = [0, 0, 0, 0];
    const extent = [-1, -1, -1, -1];
    begin[axis] = start;
    extent[axis] = length;
    return [begin, extent];
  };
  if (before <= size && after <= size) {
    const parts: tf.Tensor4D[] = [];
    if (before > 0) parts.push(tf.slice(x, ...along(size - before, before)));
    parts.push(x);
    if (after > 0) parts.push(tf.slice(x, ...along(0, after)));
    return tf.concat(parts, axis);
  }
  // The padding wraps around more than once (kernel larger than the input): tile, then cut the
  // window that starts `before` positions before index 0 of the periodic extension.
  const length = size + before + after;
  const start = (((-before) % size) + size) % size;
  const reps = [1, 1, 1, 1];
  reps[axis] = Math.ceil((start + length) / size);
  return tf.slice(tf.tile(x, reps), ...along(start, length));
}

/**
 * Circular (periodic) padding of an NHWC tensor for a stride-1 'valid' convolution with a kernel of
 * size `kernelSize`, exactly as the reference: along each spatial axis `⌊k/2⌋` rows/columns taken
 * from the end are put before and `k − 1 − ⌊k/2⌋` taken from the start after (see
 * {@link circularPadding}). Output shape `[b, h + kh − 1, w + kw − 1, c]`, so a 'valid' convolution
 * returns `[b, h, w, cout]`. Built from `slice` + `concat` (or `tile` + `slice` when the kernel is
 * larger than the input), so it is differentiable on every backend.
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
    const rows = padAxisCircular(x, 1, h.before, h.after);
    const out = padAxisCircular(rows, 2, w.before, w.after);
    return out === x ? tf.clone(x) : out;
  });
}

/**
 * Stride-1 convolution with circular padding: `circularConv2d(x, K, b) = conv2d_valid(circularPad(x, k), K) + b`,
 * i.e. `y[n, p, q, o] = Σ_{u,v,c} x[n, (p + u − ⌊kh/2⌋) mod h, (q + v − ⌊kw/2⌋) mod w, c] · K[u, v, c, o] + b[o]`
 * (a cross-correlation, as `F.conv2d`). The output has the input's spatial size. This is the
 * operator whose singular values BCOP makes all 1.
 *
 * Ownership: arguments are borrowed; the result is owned by the caller.
 *
 * @param x NHWC input `[batch, h, w, cin]`.
 * @param kernel HWIO kernel `[kh, kw, cin, cout]`.
 * @param bias optional `[cout]`.
 * @example
 * ```ts
 * const y = circularConv2d(x, kernel); // [b, h, w, cout]
 * ```
 * Reference: LConvNet `conv2d_cyclic_pad` (reference-bcop.md §1.3 step 7, §1.4).
 * @throws LipschitzError `SHAPE_MISMATCH` when ranks or channel counts do not match.
 */
export function circularConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
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
  return tf.tidy(() => {
    const padded = circularPad(x, [kernel.shape[0], kernel.shape[1]]);
    const y = tf.conv2d(padded, kernel, 1, 'valid');
    return bias == null ? y : tf.add(y, bias);
  });
}
