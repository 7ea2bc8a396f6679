import * as tf from '@tensorflow/tfjs-core';

/**
 * `[rows, 2, half]` → the two halves `[1, rows, half]` each: one transpose puts every first half in
 * one contiguous block and every second half in another, so the split copies two blocks (a split or
 * slice of the channel axis itself copies `rows` tiny pieces, one JS call each, on wasm and cpu).
 */
function halves(x: tf.Tensor, pairs: number[]): tf.Tensor3D[] {
  return tf.split(tf.transpose(tf.reshape(x, pairs), [1, 0, 2]), 2, 0) as tf.Tensor3D[];
}

/** The inverse of {@link halves}: `[1, rows, half]` × 2 back to the interleaved `shape`. */
function interleave(first: tf.Tensor3D, second: tf.Tensor3D, shape: number[]): tf.Tensor {
  return tf.reshape(tf.transpose(tf.concat([first, second], 0), [1, 0, 2]), shape);
}

/**
 * MaxMin on the last axis, `concat[max(a, b), min(a, b)]` for the halves a, b, as one differentiable
 * node with a hand-written gradient (fewer, cheaper kernels than autodiff of split/maximum/minimum/
 * concat, whose channel-axis slices and concats are many small copies on the wasm and cpu backends):
 * - forward: the halves are moved to two contiguous blocks ({@link halves}), the mask `m = a ≥ b`
 *   picks `max = m ? a : b` and `min = m ? b : a` (`where`: the same values as `maximum`/`minimum`,
 *   exactly, and cheaper on wasm), and one block concat + transpose interleaves them back;
 * - backward: `∂a = m ? ∂max : ∂min`, `∂b = m ? ∂min : ∂max` — every incoming gradient entry is routed
 *   to exactly one input entry (ties a = b go a → max, b → min), so the Jacobian is a permutation and
 *   the gradient norm is preserved.
 * Borrows `x` (rank ≥ 1, even last axis; not checked here: the callers validate shapes); the result is
 * owned by the caller. The `maxMin` layer of `@lipschitz/layers` and the `lipschitz-model/1` forward
 * pass both use it.
 *
 * @example
 * ```ts
 * const y = maxMinActivation(tf.tensor2d([[1, -2, 3, 4]])); // [[3, 4, 1, -2]]
 * ```
 * @see Anil, Lucas & Grosse, "Sorting out Lipschitz function approximation", ICML 2019.
 */
export function maxMinActivation(x: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const size = shape[shape.length - 1] / 2;
  const pairs = [x.size / (2 * size), 2, size];
  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    const [a, b] = halves(args[0] as tf.Tensor, pairs);
    const mask = tf.greaterEqual(a, b);
    save([mask]);
    return {
      value: interleave(tf.where(mask, a, b), tf.where(mask, b, a), shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [m] = saved;
        const [dMax, dMin] = halves(dy, pairs);
        return [interleave(tf.where(m, dMax, dMin), tf.where(m, dMin, dMax), shape)];
      },
    };
  });
  return node(x);
}

/**
 * GroupSort on the last axis: sorts each group of `groupSize` consecutive channels in descending order
 * (odd-even transposition sort: `groupSize` rounds of compare-exchange built from `maximum`/`minimum`,
 * which differentiate on every backend — tfjs has no TopK gradient). 1-Lipschitz; its Jacobian is a
 * permutation almost everywhere.
 *
 * Borrows `x` (last axis divisible by `groupSize`; not checked here: the callers validate shapes); the
 * result is owned by the caller. The `groupSort` layer of `@lipschitz/layers` and the
 * `lipschitz-model/1` forward pass both use it.
 *
 * @example
 * ```ts
 * const y = groupSortActivation(tf.tensor2d([[1, 4, 2, 3]]), 4); // [[4, 3, 2, 1]]
 * ```
 * @see Anil, Lucas & Grosse, "Sorting out Lipschitz function approximation", ICML 2019.
 */
export function groupSortActivation(x: tf.Tensor, g: number): tf.Tensor {
  return tf.tidy(() => {
    const shape = x.shape;
    const c = shape[shape.length - 1];
    const grouped = tf.reshape(x, [...shape.slice(0, -1), c / g, g]);
    const axis = grouped.rank - 1;
    // Odd-even transposition sort (g rounds of compare-exchange) built from maximum/minimum, which
    // differentiate on every backend (tfjs has no TopK gradient).
    const items = tf.unstack(grouped, axis);
    for (let round = 0; round < g; round++) {
      for (let i = round % 2; i + 1 < g; i += 2) {
        const hi = tf.maximum(items[i], items[i + 1]);
        const lo = tf.minimum(items[i], items[i + 1]);
        items[i] = hi;
        items[i + 1] = lo;
      }
    }
    return tf.reshape(tf.stack(items, axis), shape);
  });
}
