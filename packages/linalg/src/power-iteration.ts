import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkMatrixTensor, toBatch3, transposeLast } from './tensor-validate';

/** Options of {@link powerIteration}. */
export interface PowerIterationOptions {
  /** Power steps `v = Wᵀu/‖Wᵀu‖, u = Wv/‖Wv‖` to run (off the tape). Default 1 (one step per training step). */
  iterations?: number;
  /** Left vector(s) from the previous call, shape `[..., rows]` (the state). Default: N(0, 1), seeded by `seed`. */
  u?: tf.Tensor;
  /** Seed for the initial `u` when `u` is not given. */
  seed?: number;
}

/** Result of {@link powerIteration}; every tensor is owned by the caller. */
export interface PowerIterationResult {
  /**
   * `uᵀ W v` per matrix (shape `[...]`): an estimate of σ_max that is a **lower bound** (up to float32
   * rounding), never an upper bound. Differentiable in W with u, v held constant: `∂/∂W = u vᵀ`.
   */
  spectralNormEstimate: tf.Tensor;
  /** Updated left singular vector estimate `[..., rows]`, unit norm: pass it back as `u` next time. */
  u: tf.Tensor;
  /** Right singular vector estimate `[..., cols]`, unit norm. */
  v: tf.Tensor;
}

/**
 * Power iteration for the largest singular value of each matrix in the last two axes of `w`, with its
 * state kept by the caller: the vectors `u`, `v` are computed **outside the gradient tape**, and
 * `spectralNormEstimate = uᵀ W v` is differentiable in `W` with `u`, `v` constant (spectral
 * normalisation's gradient). An estimate and a lower bound of σ_max — never use it as a certificate
 * (use `spectralNorm`/`convSpectralNorm` on the host).
 *
 * Ownership: `w` and `options.u` are borrowed; the three results are owned by the caller (dispose the
 * old `u` after passing it). Runs in `tf.tidy`.
 *
 * @throws LipschitzError `SHAPE_MISMATCH` (bad `w` or `u` shape), `INVALID_ARGUMENT`, `DISPOSED`.
 * @example
 * ```ts
 * let state = powerIteration(w, { iterations: 10, seed: 0 });
 * const next = powerIteration(w, { u: state.u });   // one more step, warm-started
 * ```
 * @see T. Miyato et al., "Spectral Normalization for Generative Adversarial Networks", ICLR 2018.
 */
export function powerIteration(w: tf.Tensor, options: PowerIterationOptions = {}): PowerIterationResult {
  checkMatrixTensor('powerIteration', 'w', w);
  const iterations = options.iterations ?? 1;
  assertPositiveInteger('powerIteration', 'iterations', iterations);
  const rows = w.shape[w.rank - 2];
  const cols = w.shape[w.rank - 1];
  const lead = w.shape.slice(0, -2);
  if (options.u !== undefined) {
    const u = options.u;
    if (!(u instanceof tf.Tensor) || u.isDisposed) {
      throw new LipschitzError('INVALID_ARGUMENT', 'powerIteration: u must be a live tf.Tensor (the u returned by the previous call).');
    }
    const want = [...lead, rows];
    if (u.rank !== want.length || u.shape.some((d, i) => d !== want[i])) {
      throw new LipschitzError('SHAPE_MISMATCH', `powerIteration: u must have shape [${want.join(', ')}], got [${u.shape.join(', ')}].`);
    }
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `powerIteration: seed must be an integer, got ${options.seed}.`);
  }
  return tf.tidy(() => {
    const w3 = toBatch3(w);
    const batch = w3.shape[0];
    const start = options.u === undefined ? tf.randomNormal([batch, rows, 1], 0, 1, 'float32', options.seed) : tf.reshape(options.u, [batch, rows, 1]);
    // u and v off the tape: the forward of a customGrad is not recorded; its gradient is zero.
    const vectors = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const x = args[0] as tf.Tensor3D;
      const xt = transposeLast(x);
      const normalize = (t: tf.Tensor3D) => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', [1, 2], true), 1e-30)) as tf.Tensor3D;
      let u = normalize(args[1] as tf.Tensor3D);
      let v = normalize(tf.matMul(xt, u));
      u = normalize(tf.matMul(x, v));
      for (let i = 1; i < iterations; i++) {
        v = normalize(tf.matMul(xt, u));
        u = normalize(tf.matMul(x, v));
      }
      return {
        value: tf.concat([u, v], 1),
        gradFunc: () => [tf.zerosLike(x), tf.zerosLike(args[1] as tf.Tensor)],
      };
    })(w3, start) as tf.Tensor3D;
    const u = tf.slice(vectors, [0, 0, 0], [batch, rows, 1]);
    const v = tf.slice(vectors, [0, rows, 0], [batch, cols, 1]);
    const estimate = tf.sum(tf.mul(u, tf.matMul(w3, v)), [1, 2]);
    return {
      spectralNormEstimate: tf.reshape(estimate, lead),
      u: tf.reshape(u, [...lead, rows]),
      v: tf.reshape(v, [...lead, cols]),
    };
  });
}
