import { LipschitzError, assertPositiveInteger, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Invertible downsampling (pixel unshuffle, space-to-depth) of an NHWC tensor by `factor` f, in the
 * channel order of the `lipschitz-model/1` format:
 * `out[b, y, x, (i·f + j)·C + c] = in[b, y·f + i, x·f + j, c]`, output `[b, h/f, w/f, f²·C]`.
 * A pure permutation of the entries, hence orthogonal (norm-preserving, 1-Lipschitz both ways).
 *
 * tfjs-core has no `spaceToDepth`; this is `reshape` + `transpose` + `reshape` (rank ≤ 4, so it runs
 * and differentiates on every backend). The reference (`PixelUnshuffle2d`) orders channels
 * `(c, i, j)` instead; {@link referenceToOursChannelPermutation} converts.
 *
 * Ownership: `x` is borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const y = invertibleDownsample(tf.zeros([8, 28, 28, 1]), 2); // [8, 14, 14, 4]
 * ```
 * Reference: Li et al. 2019 (LConvNet `invertible_downsampling.py`, reference-bcop.md §1.5, §5);
 * design.md, `invertibleDownsample` layer.
 * @throws LipschitzError `INVALID_ARGUMENT` for a bad `factor`; `SHAPE_MISMATCH` when `x` is not rank 4
 *   or its height/width is not divisible by `factor`.
 */
export function invertibleDownsample(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const fn = 'invertibleDownsample';
  assertRank(fn, 'x (NHWC)', x.shape, 4);
  assertPositiveInteger(fn, 'factor', factor);
  const [b, h, w, c] = x.shape;
  if (h % factor !== 0 || w % factor !== 0) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: height ${h} and width ${w} must be divisible by factor ${factor}. Crop or pad the input first.`,
    );
  }
  const f = factor;
  return tf.tidy(() => {
    // [b·h/f, f(i), w/f, f·C (j, c)] → [b·h/f, w/f, f(i), f·C] → channel (i·f + j)·C + c.
    const split = tf.reshape(x, [b * (h / f), f, w / f, f * c]);
    const moved = tf.transpose(split, [0, 2, 1, 3]);
    return tf.reshape(moved, [b, h / f, w / f, f * f * c]);
  });
}

/**
 * The inverse of {@link invertibleDownsample} (pixel shuffle, depth-to-space in the same channel
 * order): `out[b, y·f + i, x·f + j, c] = in[b, y, x, (i·f + j)·C + c]`, output `[b, h·f, w·f, C]`
 * for an input with `f²·C` channels. `invertibleUpsample(invertibleDownsample(x, f), f) = x` exactly.
 *
 * Ownership: `x` is borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const back = invertibleUpsample(invertibleDownsample(x, 2), 2); // equals x
 * ```
 * Reference: design.md, `invertibleDownsample` layer (its inverse).
 * @throws LipschitzError `INVALID_ARGUMENT` for a bad `factor`; `SHAPE_MISMATCH` when `x` is not rank 4
 *   or its channel count is not divisible by `factor²`.
 */
export function invertibleUpsample(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  const fn = 'invertibleUpsample';
  assertRank(fn, 'x (NHWC)', x.shape, 4);
  assertPositiveInteger(fn, 'factor', factor);
  const [b, h, w, channels] = x.shape;
  const f = factor;
  if (channels % (f * f) !== 0) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: the channel count ${channels} must be divisible by factor² = ${f * f}.`,
    );
  }
  const c = channels / (f * f);
  return tf.tidy(() => {
    const split = tf.reshape(x, [b * h, w, f, f * c]);
    const moved = tf.transpose(split, [0, 2, 1, 3]);
    return tf.reshape(moved, [b, h * f, w * f, c]);
  });
}

/**
 * The channel permutation from the reference's pixel-unshuffle order to ours, for parity tests and
 * for importing reference weights: `perm[(i·f + j)·C + c] = c·f² + i·f + j`, so that
 * `ours = tf.gather(reference, perm, -1)` (ours is `(i, j, c)`-major, the reference's
 * `PixelUnshuffle2d` is `(c, i, j)`-major).
 *
 * @param channels C, the channel count before downsampling.
 * @param factor f.
 * @returns a new `Int32Array` of length `f²·C` (owned by the caller).
 * @example
 * ```ts
 * referenceToOursChannelPermutation(2, 2); // [0, 4, 1, 5, 2, 6, 3, 7]
 * ```
 * Reference: reference-bcop.md §5 (einops `b c (w k1) (h k2) -> b (c k1 k2) w h`).
 * @throws LipschitzError `INVALID_ARGUMENT` when `channels` or `factor` is not a positive integer.
 */
export function referenceToOursChannelPermutation(channels: number, factor: number): Int32Array {
  const fn = 'referenceToOursChannelPermutation';
  assertPositiveInteger(fn, 'channels', channels);
  assertPositiveInteger(fn, 'factor', factor);
  const f = factor;
  const perm = new Int32Array(f * f * channels);
  for (let i = 0; i < f; i++) {
    for (let j = 0; j < f; j++) {
      for (let c = 0; c < channels; c++) perm[(i * f + j) * channels + c] = c * f * f + i * f + j;
    }
  }
  return perm;
}
