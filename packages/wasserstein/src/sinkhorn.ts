import { assertPositiveInteger, assertPositiveNumber } from '@lipschitz/core';
import { checkPointCloud, euclideanCostMatrix, type PointCloud } from './point-cloud';

/** Result of {@link sinkhornW1}. */
export interface SinkhornResult {
  /** Transport cost `⟨P, C⟩` of the entropic plan P (an upper bound on W1 once the marginals converge). */
  transportCost: number;
  /** Largest absolute marginal violation of P at the last iteration. */
  marginalError: number;
  iterations: number;
}

function logSumExp(values: Float64Array, length: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < length; k++) if (values[k] > max) max = values[k];
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let k = 0; k < length; k++) sum += Math.exp(values[k] - max);
  return max + Math.log(sum);
}

/**
 * Entropic optimal transport between two uniform empirical measures (log-domain Sinkhorn, float64):
 * `P = argmin_{P ∈ Π(a, b)} ⟨P, C⟩ − ε H(P)` with `C_ij = ‖a_i − b_j‖₂`, computed through the dual
 * potentials `f_i = −ε log Σ_j exp((g_j − C_ij)/ε) + ε log a_i` (and symmetrically for g), which is stable
 * for small ε. Returns `⟨P, C⟩`, which converges to the exact W1 as `ε → 0` (Cuturi 2013; Peyré &
 * Cuturi, *Computational Optimal Transport*, 2019, §4). Sizes may differ. For an exact value on
 * equal-size sets use {@link exactW1}.
 *
 * @param options.epsilon regularisation in the units of the cost (default 1e-2 × the mean cost).
 * @example
 * ```ts
 * sinkhornW1(a, b, { epsilon: 0.01 }).transportCost;
 * ```
 */
export function sinkhornW1(
  a: PointCloud,
  b: PointCloud,
  { epsilon, maxIterations = 2000, tolerance = 1e-9 }: { epsilon?: number; maxIterations?: number; tolerance?: number } = {},
): SinkhornResult {
  checkPointCloud('sinkhornW1', 'a', a);
  checkPointCloud('sinkhornW1', 'b', b);
  assertPositiveInteger('sinkhornW1', 'maxIterations', maxIterations);
  const n = a.count;
  const m = b.count;
  const cost = euclideanCostMatrix(a, b);
  let meanCost = 0;
  for (let k = 0; k < cost.length; k++) meanCost += cost[k];
  meanCost /= cost.length;
  const eps = epsilon ?? Math.max(1e-2 * meanCost, 1e-12);
  assertPositiveNumber('sinkhornW1', 'epsilon', eps);
  const logA = Math.log(1 / n);
  const logB = Math.log(1 / m);
  const f = new Float64Array(n);
  const g = new Float64Array(m);
  const rowBuffer = new Float64Array(Math.max(n, m));
  let marginalError = Number.POSITIVE_INFINITY;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) rowBuffer[j] = (g[j] - cost[i * m + j]) / eps;
      f[i] = eps * (logA - logSumExp(rowBuffer, m));
    }
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < n; i++) rowBuffer[i] = (f[i] - cost[i * m + j]) / eps;
      g[j] = eps * (logB - logSumExp(rowBuffer, n));
    }
    // After the g update the column marginals are exact; measure the row marginals.
    marginalError = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < m; j++) row += Math.exp((f[i] + g[j] - cost[i * m + j]) / eps);
      marginalError = Math.max(marginalError, Math.abs(row - 1 / n));
    }
    if (marginalError < tolerance) {
      iterations++;
      break;
    }
  }
  let transportCost = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const c = cost[i * m + j];
      transportCost += Math.exp((f[i] + g[j] - c) / eps) * c;
    }
  }
  return { transportCost, marginalError, iterations };
}
