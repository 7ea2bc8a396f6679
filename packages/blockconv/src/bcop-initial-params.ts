import { LipschitzError, SeededRandom, assertInRange, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { Matrix, QrDecomposition } from 'ml-matrix';

/** Shape options of a BCOP layer, shared by {@link bcopInitialParams} and `bcopKernel`. */
export interface BcopShape {
  /** Input channels `cin` (≥ 1). */
  inChannels: number;
  /** Output channels `cout` (≥ 1). */
  outChannels: number;
  /** Kernel size `k` (≥ 1); the kernel is `k × k`. */
  kernelSize: number;
}

/** Options of {@link bcopInitialParams}. */
export interface BcopInitialParamsOptions extends BcopShape {
  /** Seed of the host random generator (any integer); equal seeds give equal parameters. */
  seed: number;
  /** Multiplier of every matrix; default `1/√cmax` (the reference's `orthogonal_(gain=1/√cmax)`). */
  gain?: number;
}

/**
 * The number of parameter matrices `2(k − 1) + 1` and their size `cmax = max(cin, cout)` of a BCOP
 * layer: its parameters have shape `[2(k − 1) + 1, cmax, cmax]` (index 0 → H, then P1, Q1, P2, Q2, …).
 *
 * @example
 * ```ts
 * bcopParamsShape({ inChannels: 64, outChannels: 32, kernelSize: 2 }); // [3, 64, 64]
 * ```
 * Reference: LConvNet `bcop.py` (reference-bcop.md §1.1).
 * @throws LipschitzError `INVALID_ARGUMENT` when a field is not a positive integer.
 */
export function bcopParamsShape(shape: BcopShape): [number, number, number] {
  return checkedParamsShape('bcopParamsShape', shape);
}

/** @internal {@link bcopParamsShape} with the caller's name in its errors. */
export function checkedParamsShape(fn: string, shape: BcopShape): [number, number, number] {
  if (shape == null || typeof shape !== 'object') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: pass an options object { inChannels, outChannels, kernelSize }.`);
  }
  assertPositiveInteger(fn, 'inChannels', shape.inChannels);
  assertPositiveInteger(fn, 'outChannels', shape.outChannels);
  assertPositiveInteger(fn, 'kernelSize', shape.kernelSize);
  const cmax = Math.max(shape.inChannels, shape.outChannels);
  return [2 * (shape.kernelSize - 1) + 1, cmax, cmax];
}

/**
 * A random orthogonal `n × n` matrix (row-major float64): the Q factor of the QR decomposition of a
 * matrix of independent N(0, 1) entries, with each column multiplied by the sign of the matching
 * diagonal entry of R, so that it is Haar-distributed (as PyTorch's `orthogonal_`).
 */
function randomOrthogonal(n: number, rng: SeededRandom): Float64Array {
  const gaussian = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gaussian.set(i, j, rng.normal());
  const qr = new QrDecomposition(gaussian);
  const q = qr.orthogonalMatrix;
  const r = qr.upperTriangularMatrix;
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const sign = r.get(j, j) < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) out[i * n + j] = sign * q.get(i, j);
  }
  return out;
}

/**
 * Initial BCOP parameters `[2(k − 1) + 1, cmax, cmax]`, `cmax = max(cin, cout)`: each matrix is a
 * random orthogonal matrix (QR of a Gaussian on the host in float64, sign-corrected) times
 * `gain = 1/√cmax`. Every Björck input is then exactly orthogonal up to the scale, so the initial
 * BCOP kernel is orthogonal; the scale only matters for the optimizer's relative step size.
 * Deterministic for a given `seed` on every backend (the numbers are drawn on the host).
 *
 * Ownership: the result is a new float32 tensor owned by the caller (wrap it in `tf.variable` to train).
 *
 * @example
 * ```ts
 * const params = bcopInitialParams({ inChannels: 16, outChannels: 32, kernelSize: 3, seed: 0 }); // [5, 32, 32]
 * ```
 * Reference: LConvNet `BCOP.reset_parameters` (reference-bcop.md §1.2); Saxe et al. 2014 (orthogonal init).
 * @throws LipschitzError `INVALID_ARGUMENT` for non-positive-integer sizes, a non-integer seed or a bad gain.
 */
export function bcopInitialParams(options: BcopInitialParamsOptions): tf.Tensor3D {
  const fn = 'bcopInitialParams';
  const [count, cmax] = checkedParamsShape(fn, options);
  if (!Number.isInteger(options.seed)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: seed must be an integer, got ${String(options.seed)}.`);
  }
  const gain = options.gain ?? 1 / Math.sqrt(cmax);
  assertInRange(fn, 'gain', gain, 0, Number.POSITIVE_INFINITY, { minExclusive: true, maxExclusive: true });
  const rng = new SeededRandom(options.seed);
  const values = new Float32Array(count * cmax * cmax);
  for (let m = 0; m < count; m++) {
    const q = randomOrthogonal(cmax, rng);
    for (let i = 0; i < q.length; i++) values[m * cmax * cmax + i] = gain * q[i];
  }
  return tf.tensor3d(values, [count, cmax, cmax]);
}
