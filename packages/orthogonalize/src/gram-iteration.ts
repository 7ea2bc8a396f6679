import * as tf from '@tensorflow/tfjs-core';

/**
 * @internal Coupled Newton–Schulz-type iteration on a batch of Gram matrices `G₀ = x₀ᵀx₀`:
 * `E = Z Y`, `T = q_i(E)`, `Y ← Y T`, `Z ← T Z` (Y₀ = G₀, Z₀ = I). Every iterate is a polynomial in G₀,
 * so `x₀ Z_k` equals the k-th iterate of the direct iteration `x ← x q_i(xᵀx)` in exact arithmetic.
 * Returns Z. `polynomials[i]` are the coefficients a_j of `q_i(E) = Σ a_j E^j`.
 */
export function coupledIteration(g0: tf.Tensor3D, polynomials: readonly (readonly number[])[]): tf.Tensor3D {
  const n = g0.shape[1];
  const eye = tf.reshape(tf.eye(n), [1, n, n]);
  let y = g0;
  let z: tf.Tensor3D | undefined;
  polynomials.forEach((a, i) => {
    const e = z === undefined ? y : (tf.matMul(z, y) as tf.Tensor3D);
    const t = polynomialOfMatrix(e, a, eye);
    if (i < polynomials.length - 1) y = tf.matMul(y, t) as tf.Tensor3D;
    z = z === undefined ? t : (tf.matMul(t, z) as tf.Tensor3D);
  });
  return z ?? (tf.tile(eye, [g0.shape[0], 1, 1]) as tf.Tensor3D);
}

/** @internal `Σ_j a_j E^j` (Horner), with `eye` the `[1, n, n]` identity. */
export function polynomialOfMatrix(e: tf.Tensor3D, a: readonly number[], eye: tf.Tensor): tf.Tensor3D {
  let q = tf.add(tf.mul(e, a[a.length - 1]), tf.mul(eye, a[a.length - 2])) as tf.Tensor3D;
  for (let j = a.length - 3; j >= 0; j--) q = tf.add(tf.matMul(q, e), tf.mul(eye, a[j])) as tf.Tensor3D;
  return q;
}

/** @internal One direct step `x ← x q(xᵀx)`; degree 1 as `a₀ x + a₁ x (xᵀx)` (the reference's form). */
export function directStep(x: tf.Tensor3D, a: readonly number[], gramOfX?: tf.Tensor3D): tf.Tensor3D {
  const g = gramOfX ?? (tf.matMul(tf.transpose(x, [0, 2, 1]), x) as tf.Tensor3D);
  if (a.length === 2) return tf.add(tf.mul(x, a[0]), tf.mul(tf.matMul(x, g), a[1])) as tf.Tensor3D;
  const n = g.shape[1];
  return tf.matMul(x, polynomialOfMatrix(g, a, tf.reshape(tf.eye(n), [1, n, n]))) as tf.Tensor3D;
}

/**
 * @internal Multiply–add counts of the two forms for a `[m, n]` (m ≥ n) matrix and `steps` steps of
 * degree-1 polynomials, `refinement` of them direct: used to choose the cheaper form.
 */
export function iterationFlops(m: number, n: number, steps: number, refinement: number): { direct: number; gram: number } {
  const direct = steps * 2 * m * n * n;
  const gramSteps = steps - refinement;
  const gram = (gramSteps > 0 ? 2 * m * n * n + Math.max(0, 3 * gramSteps - 2) * n ** 3 : 0) + refinement * 2 * m * n * n;
  return { direct, gram };
}
