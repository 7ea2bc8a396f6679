import { LipschitzError } from '@lipschitz/core';
import { solveAssignment } from './assignment';
import { checkPointCloud, euclideanCostMatrix, type PointCloud } from './point-cloud';

/** Result of {@link exactW1}. */
export interface ExactW1Result {
  /** `W1(μ_a, μ_b)` for the uniform empirical measures, in float64. */
  w1: number;
  /** `matching[i]` is the index in `b` transported from `a_i`. */
  matching: Int32Array;
  n: number;
  dim: number;
}

/**
 * The exact Wasserstein-1 distance between two empirical measures with the same number of points and
 * uniform weights, `W1 = min_σ (1/n) Σ_i ‖a_i − b_σ(i)‖₂`: for equal-size uniform measures an optimal
 * transport plan is a permutation (Birkhoff–von Neumann), so the assignment problem is solved exactly
 * ({@link solveAssignment}, float64). This is the ceiling every critic estimate on the same samples is
 * judged against: for any 1-Lipschitz f, `mean f(a) − mean f(b) ≤ W1` (Kantorovich–Rubinstein).
 *
 * Cost: O(n²·dim) to build the distance matrix, O(n³) worst case to solve (a few seconds for n = 2,000).
 *
 * @throws LipschitzError `SHAPE_MISMATCH` for different sizes or dimensions.
 * @example
 * ```ts
 * exactW1({ points: [0, 0], count: 2, dim: 1 }, { points: [1, 1], count: 2, dim: 1 }).w1; // 1
 * ```
 */
export function exactW1(a: PointCloud, b: PointCloud): ExactW1Result {
  checkPointCloud('exactW1', 'a', a);
  checkPointCloud('exactW1', 'b', b);
  if (a.count !== b.count) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `exactW1: the sets must have the same number of points, got ${a.count} and ${b.count}. Subsample the larger one or use sinkhornW1.`,
    );
  }
  if (a.dim !== b.dim) {
    throw new LipschitzError('SHAPE_MISMATCH', `exactW1: the sets have dimensions ${a.dim} and ${b.dim}; they must match.`);
  }
  const cost = euclideanCostMatrix(a, b);
  const { columnForRow, cost: total } = solveAssignment(cost, a.count);
  return { w1: total / a.count, matching: columnForRow, n: a.count, dim: a.dim };
}
