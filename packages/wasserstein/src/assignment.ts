import { LipschitzError } from '@lipschitz/core';

/** An optimal assignment: `columnForRow[i]` is the column matched to row i; `cost` its total cost. */
export interface Assignment {
  columnForRow: Int32Array;
  cost: number;
}

/**
 * Solves the square linear assignment problem `min_σ Σ_i C[i, σ(i)]` exactly in float64 with the
 * shortest-augmenting-path method of Jonker & Volgenant as formulated by Crouse (2016): O(n³) time,
 * O(n²) memory for the cost matrix the caller provides.
 *
 * @param cost row-major `n × n` cost matrix (finite values).
 * @throws LipschitzError `SHAPE_MISMATCH` when `cost.length ≠ n²`; `INVALID_ARGUMENT` on a non-finite cost.
 *
 * @example
 * ```ts
 * solveAssignment(Float64Array.from([4, 1, 2, 0]), 2).columnForRow; // [1, 0]
 * ```
 *
 * References: R. Jonker, A. Volgenant, "A shortest augmenting path algorithm for dense and sparse linear
 * assignment problems", Computing 38 (1987); D. F. Crouse, "On implementing 2D rectangular assignment
 * algorithms", IEEE TAES 52 (2016).
 */
export function solveAssignment(cost: ArrayLike<number>, n: number): Assignment {
  if (!Number.isInteger(n) || n < 0) {
    throw new LipschitzError('INVALID_ARGUMENT', `solveAssignment: n must be a non-negative integer, got ${n}.`);
  }
  if (cost.length !== n * n) {
    throw new LipschitzError('SHAPE_MISMATCH', `solveAssignment: cost must have n² = ${n * n} entries, got ${cost.length}.`);
  }
  for (let k = 0; k < cost.length; k++) {
    if (!Number.isFinite(cost[k])) {
      throw new LipschitzError('INVALID_ARGUMENT', `solveAssignment: cost[${k}] is ${cost[k]}; every cost must be finite.`);
    }
  }
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  const shortest = new Float64Array(n);
  const path = new Int32Array(n).fill(-1);
  const colForRow = new Int32Array(n).fill(-1);
  const rowForCol = new Int32Array(n).fill(-1);
  const inRows = new Uint8Array(n);
  const inCols = new Uint8Array(n);
  const remaining = new Int32Array(n);

  for (let current = 0; current < n; current++) {
    // Dijkstra-like search for the shortest augmenting path from `current` in reduced costs.
    let minValue = 0;
    let remainingCount = n;
    for (let k = 0; k < n; k++) remaining[k] = n - k - 1;
    inRows.fill(0);
    inCols.fill(0);
    shortest.fill(Number.POSITIVE_INFINITY);
    let sink = -1;
    let i = current;
    while (sink === -1) {
      let index = -1;
      let lowest = Number.POSITIVE_INFINITY;
      inRows[i] = 1;
      const rowOffset = i * n;
      const ui = u[i];
      for (let k = 0; k < remainingCount; k++) {
        const j = remaining[k];
        const reduced = minValue + cost[rowOffset + j] - ui - v[j];
        if (reduced < shortest[j]) {
          path[j] = i;
          shortest[j] = reduced;
        }
        if (shortest[j] < lowest || (shortest[j] === lowest && rowForCol[j] === -1)) {
          lowest = shortest[j];
          index = k;
        }
      }
      minValue = lowest;
      if (!Number.isFinite(minValue)) {
        throw new LipschitzError('NUMERICAL_ERROR', 'solveAssignment: no augmenting path found (infeasible cost matrix).');
      }
      const j = remaining[index];
      if (rowForCol[j] === -1) sink = j;
      else i = rowForCol[j];
      inCols[j] = 1;
      remaining[index] = remaining[--remainingCount];
    }
    // Update the dual variables.
    u[current] += minValue;
    for (let r = 0; r < n; r++) {
      if (inRows[r] && r !== current) u[r] += minValue - shortest[colForRow[r]];
    }
    for (let c = 0; c < n; c++) {
      if (inCols[c]) v[c] -= minValue - shortest[c];
    }
    // Augment along the path.
    let j = sink;
    for (;;) {
      const r = path[j];
      rowForCol[j] = r;
      const previous = colForRow[r];
      colForRow[r] = j;
      j = previous;
      if (r === current) break;
    }
  }
  let total = 0;
  for (let r = 0; r < n; r++) total += cost[r * n + colForRow[r]];
  return { columnForRow: colForRow, cost: total };
}
