import { LipschitzError, type ExportedLayer, assertNotDisposed, assertPositiveInteger } from '@lipschitz/core';
import { groupSortActivation } from '@lipschitz/model-format';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerModule } from './layer-base';
import { StatelessLayer } from './stateless-layer';

/** Options of {@link groupSort}. */
export interface GroupSortOptions {
  /** Size of each group of consecutive channels (≥ 2; must divide the channel count). */
  groupSize: number;
}

/** GroupSort activation (see {@link groupSort}). */
export class GroupSort extends StatelessLayer {
  readonly groupSize: number;
  constructor(options: GroupSortOptions) {
    super('groupSort', options, `groupSort(${options.groupSize})`);
    this.groupSize = options.groupSize;
  }
  protected checkInputShape(fn: string, inputShape: readonly number[]): void {
    const c = inputShape[inputShape.length - 1];
    if (inputShape.length < 1 || c % this.groupSize !== 0) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: the channel count must be a multiple of groupSize ${this.groupSize}, got input shape [${inputShape.join(', ')}] (without batch).`,
      );
    }
  }
  protected forward(x: tf.Tensor): tf.Tensor {
    return groupSortActivation(x, this.groupSize);
  }
  outputShape(inputShape: readonly number[]): number[] {
    this.checkInputShape('groupSort.outputShape', inputShape);
    return [...inputShape];
  }
  async exportLayers(inputShape: readonly number[]): Promise<ExportedLayer[]> {
    assertNotDisposed('groupSort.exportLayers', this.disposed);
    this.checkInputShape('groupSort.exportLayers', inputShape);
    return [{ type: 'groupSort', groupSize: this.groupSize }];
  }
}

/**
 * GroupSort activation (Anil, Lucas & Grosse, "Sorting out Lipschitz function approximation", 2019):
 * sorts each group of `groupSize` consecutive channels (last axis) in descending order. `groupSize: 2`
 * sorts adjacent pairs (a permutation of {@link maxMin}'s output); `groupSize = C` is FullSort.
 *
 * Guarantee: 1-Lipschitz and gradient-norm preserving (the Jacobian is a permutation almost
 * everywhere); `lipschitzUpperBound` is exactly 1.
 *
 * Ownership: `apply` borrows its input and returns a new tensor. Throws `INVALID_ARGUMENT` when
 * `groupSize < 2`, `SHAPE_MISMATCH` when it does not divide the channel count.
 *
 * @example
 * ```ts
 * const y = groupSort({ groupSize: 4 }).apply(tf.tensor2d([[1, 4, 2, 3]])); // [[4, 3, 2, 1]]
 * ```
 */
export function groupSort(options: GroupSortOptions): LayerModule {
  assertPositiveInteger('groupSort', 'groupSize', options?.groupSize);
  if (options.groupSize < 2) {
    throw new LipschitzError('INVALID_ARGUMENT', `groupSort: groupSize must be at least 2, got ${options.groupSize}. Pass groupSize: 2 for MaxMin-like pairs.`);
  }
  return new GroupSort({ groupSize: options.groupSize });
}
