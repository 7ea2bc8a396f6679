import { LipschitzError, type ExportedLayer, assertNotDisposed } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Checks that the last (channel) axis exists and is even. */
function checkEvenChannels(fn: string, inputShape: readonly number[]): void {
  const c = inputShape[inputShape.length - 1];
  if (inputShape.length < 1 || c % 2 !== 0) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: the last (channel) axis must have an even size, got input shape [${inputShape.join(', ')}] (without batch). Use an even number of channels.`,
    );
  }
}

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
 * Borrows `x` (rank ≥ 1, even last axis); the result is owned by the caller.
 */
function maxMinPairs(x: tf.Tensor): tf.Tensor {
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

/** MaxMin activation (see {@link maxMin}). */
export class MaxMin extends StatelessLayer {
  constructor() {
    super('maxMin', {}, 'maxMin');
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    checkEvenChannels(fn, inputShape);
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    return maxMinPairs(x);
  }
  outputShape(inputShape: readonly number[]): number[] {
    checkEvenChannels('maxMin.outputShape', inputShape);
    return [...inputShape];
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('maxMin.exportLayers', this.disposed);
    checkEvenChannels('maxMin.exportLayers', inputShape);
    return [{ type: 'maxMin' }];
  }
}

/**
 * MaxMin activation (Anil, Lucas & Grosse 2019; reference `GroupSort(2, new_impl=True)`): splits the
 * last (channel) axis into halves a, b and returns `concat[max(a, b), min(a, b)]` — channel i is paired
 * with channel i + C/2. Works for NHWC maps and `[N, F]` vectors; C must be even.
 *
 * Guarantee: 1-Lipschitz and gradient-norm preserving (its Jacobian is a permutation matrix almost
 * everywhere); `lipschitzUpperBound` is exactly 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor. Throws `SHAPE_MISMATCH` on an odd
 * channel count.
 *
 * @example
 * ```ts
 * const y = maxMin().apply(tf.tensor2d([[1, -2, 3, 4]])); // [[3, 4, 1, -2]]
 * ```
 */
export function maxMin(): LayerModule {
  return new MaxMin();
}
