import { convSpectralNorm } from '@lipschitz/linalg';

/**
 * Relative slack added to every host-computed spectral norm: the float64 SVD/FFT of a float32 kernel
 * has a relative error of a few 1e-15 (sizes here ≤ 10⁴); 1e-12 covers it with a wide margin, so
 * `lipschitzUpperBound` stays a true upper bound of the operator defined by the float32 weights.
 */
export const HOST_BOUND_SLACK = 1e-12;

/**
 * Exact σ_max (plus {@link HOST_BOUND_SLACK}) of the circular convolution with HWIO `kernel` on
 * `[h, w]` inputs, from `convSpectralNorm` (float64 FFT + SVD per frequency, `@lipschitz/linalg`).
 */
export function circularConvNorm(kernel: ArrayLike<number>, shape: [number, number, number, number], size: [number, number]): number {
  return convSpectralNorm(kernel, shape, size) * (1 + HOST_BOUND_SLACK);
}
