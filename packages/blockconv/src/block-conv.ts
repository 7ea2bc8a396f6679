import { LipschitzError, assertOneOf, assertRank } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * @internal Full block convolution of a grid `a` `[kah, kaw, c1, c2]` with a grid `b` given by its
 * taps laid side by side, `bTaps = [b[0,0] | b[0,1] | … | b[kbh−1,kbw−1]]` of shape `[c2, kbh·kbw·c3]`.
 * One matMul for all products, then each product grid is shifted into place with `pad` and summed:
 * `out[i, j] = Σ_{a,b} a[i − a, j − b] @ b[a, b]`, shape `[kah + kbh − 1, kaw + kbw − 1, c1, c3]`.
 */
export function convolveWithTaps(a: tf.Tensor, bTaps: tf.Tensor, kbh: number, kbw: number): tf.Tensor4D {
  const [kah, kaw, c1, c2] = a.shape;
  const taps = kbh * kbw;
  const c3 = (bTaps.shape[1] as number) / taps;
  const products = tf.matMul(tf.reshape(a, [kah * kaw * c1, c2]), bTaps);
  if (taps === 1) return tf.reshape(products, [kah, kaw, c1, c3]);
  const pieces = tf.split(tf.reshape(products, [kah * kaw * c1, taps, c3]), taps, 1);
  const shifted = pieces.map((piece, t) => {
    const ta = Math.floor(t / kbw);
    const tb = t % kbw;
    return tf.pad(tf.reshape(piece, [kah, kaw, c1, c3]), [
      [ta, kbh - 1 - ta],
      [tb, kbw - 1 - tb],
      [0, 0],
      [0, 0],
    ]);
  });
  return tf.addN(shifted) as tf.Tensor4D;
}

/**
 * Full 2-D block convolution of two block kernels ("□" in the paper):
 * `blockConv(a, b)[i, j] = Σ_{u,v} a[u, v] @ b[i − u, j − v]` for `a` `[kah, kaw, c1, c2]` and `b`
 * `[kbh, kbw, c2, c3]` (HWIO: the first matrix index is the input channel, the second the output),
 * result `[kah + kbh − 1, kaw + kbw − 1, c1, c3]`. This is the reference's
 * `matrix_conv(m1, m2)[i,j] = Σ_{a,b} m1[a,b] @ m2[i−a, j−b]`.
 *
 * Composition: applying `a` then `b` with {@link circularConv2d} equals applying `blockConv(a, b)`,
 * `circularConv2d(circularConv2d(x, a), b) = S(circularConv2d(x, blockConv(a, b)))`, where `S` is the
 * identity unless both `a` and `b` have an even size along an axis, in which case it is a circular
 * shift by one position along that axis, `S(y)[p] = y[(p − 1) mod h]` (the circular padding puts
 * `⌊k/2⌋` before, and `⌊ka/2⌋ + ⌊kb/2⌋ = ⌊(ka + kb − 1)/2⌋ + 1` for even ka, kb). For 'valid'
 * (un-padded) convolutions the identity is exact. `blockConv` is bilinear and associative, so a
 * composition of orthogonal block kernels is an orthogonal block kernel.
 *
 * Implementation: one `matMul` for all tap products, then `pad` + `addN` (differentiable on every
 * backend, no conv-filter gradient needed).
 *
 * Ownership: arguments are borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const k = blockConv(blockOrth(p1, q1), blockOrth(p2, q2)); // [3, 3, n, n], orthogonal
 * ```
 * Reference: Li et al. 2019, §4 (block convolution); LConvNet `matrix_conv`; orthogonium `fast_matrix_conv`.
 * @throws LipschitzError `SHAPE_MISMATCH` when either argument is not rank 4 or the inner channel counts differ.
 */
export function blockConv(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const fn = 'blockConv';
  assertRank(fn, 'a [kh, kw, c1, c2]', a.shape, 4);
  assertRank(fn, 'b [kh, kw, c2, c3]', b.shape, 4);
  if (a.shape[3] !== b.shape[2]) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: a [${a.shape.join(', ')}] has ${a.shape[3]} output channels but b [${b.shape.join(', ')}] has ${b.shape[2]} input channels; they must be equal.`,
    );
  }
  const [kbh, kbw, c2, c3] = b.shape;
  return tf.tidy(() => {
    const bTaps = tf.reshape(tf.transpose(b, [2, 0, 1, 3]), [c2, kbh * kbw * c3]);
    return convolveWithTaps(a, bTaps, kbh, kbw);
  });
}

function assertSquare(fn: string, name: string, m: tf.Tensor): number {
  if (m.rank !== 2 || m.shape[0] !== m.shape[1]) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: ${name} must be a square matrix [n, n], got [${m.shape.join(', ')}].`);
  }
  return m.shape[0];
}

/**
 * The 1-D orthogonal block kernel `[P, I − P]` of a symmetric projector `P` (`n × n`): shape
 * `[1, 2, n, n]` along the width (`axis = 'width'`, default) or `[2, 1, n, n]` along the height.
 * For an orthogonal projector `P`, its circular convolution is orthogonal: the symbol
 * `P + (I − P) e^{iω}` is unitary for every frequency ω.
 *
 * Ownership: `p` is borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const k = blockOrth1d(symmetricProjector(r), 'height'); // [2, 1, n, n]
 * ```
 * Reference: Li et al. 2019, §4, Eq. (6) (Xiao et al. 2018's 1-D block orthogonal kernels).
 * @throws LipschitzError `SHAPE_MISMATCH` when `p` is not square; `INVALID_ARGUMENT` for a bad `axis`.
 */
export function blockOrth1d(p: tf.Tensor2D, axis: 'height' | 'width' = 'width'): tf.Tensor4D {
  const fn = 'blockOrth1d';
  const n = assertSquare(fn, 'p', p);
  assertOneOf(fn, 'axis', axis, ['height', 'width'] as const);
  return tf.tidy(() => {
    const stacked = tf.stack([p, tf.sub(tf.eye(n), p)]);
    return tf.reshape(stacked, axis === 'width' ? [1, 2, n, n] : [2, 1, n, n]) as tf.Tensor4D;
  });
}

/**
 * The 2×2 orthogonal block kernel of two symmetric projectors `P`, `Q` (`n × n`):
 * `blockOrth(P, Q) = [[PQ, P(I−Q)], [(I−P)Q, (I−P)(I−Q)]]` of shape `[2, 2, n, n]` (HWIO, first grid
 * index = kernel row), i.e. `blockConv(blockOrth1d(P, 'height'), blockOrth1d(Q, 'width'))`, the
 * paper's `[P; I−P] □ [Q, I−Q]`. Computed with a single matrix product `PQ`.
 *
 * Ownership: arguments are borrowed; the result is owned by the caller.
 *
 * @example
 * ```ts
 * const [p, q] = tf.unstack(symmetricProjector(orthogonalPair)); // two n×n projectors
 * const kernel = blockOrth(p, q); // a 2×2 orthogonal convolution kernel
 * ```
 * Reference: Li et al. 2019, Alg. 1 / §4; LConvNet `block_orth` (reference-bcop.md §1.3 step 4).
 * @throws LipschitzError `SHAPE_MISMATCH` when `p`, `q` are not square matrices of the same size.
 */
export function blockOrth(p: tf.Tensor2D, q: tf.Tensor2D): tf.Tensor4D {
  const fn = 'blockOrth';
  const n = assertSquare(fn, 'p', p);
  const m = assertSquare(fn, 'q', q);
  if (n !== m) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: p [${p.shape.join(', ')}] and q [${q.shape.join(', ')}] must have the same size.`);
  }
  return tf.tidy(() => {
    const taps = blockOrthTaps(p, q, tf.matMul(p, q), false);
    return tf.reshape(tf.stack(taps), [2, 2, n, n]) as tf.Tensor4D;
  });
}

/**
 * @internal The four taps `[t00, t01, t10, t11]` of a 2×2 block kernel from projectors `P`, `Q` and
 * a product `prod`, as `[prod, P − prod, Q − prod, I − P − Q + prod]` (or with t01 ↔ t10 swapped
 * when `spatialTranspose`). With `prod = PQ` these are the taps of `blockOrth(P, Q)` (or of its
 * spatial transpose); with `prod = QP` and `spatialTranspose`, the elementwise matrix transposes of
 * the taps of the spatial transpose of `blockOrth(P, Q)`.
 */
export function blockOrthTaps(p: tf.Tensor, q: tf.Tensor, pq: tf.Tensor, spatialTranspose: boolean): tf.Tensor[] {
  const n = p.shape[p.rank - 1];
  const pMinus = tf.sub(p, pq); // P(I − Q)
  const qMinus = tf.sub(q, pq); // (I − P)Q
  const rest = tf.add(tf.sub(tf.sub(tf.eye(n), p), q), pq); // (I − P)(I − Q)
  return spatialTranspose ? [pq, qMinus, pMinus, rest] : [pq, pMinus, qMinus, rest];
}
