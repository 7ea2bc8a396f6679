import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { type LayerModule, groupSort as groupSortModule } from '@lipschitz/layers';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type BaseLayerArgs, singleInput, singleShape } from './lipschitz-layer';
import { registerLayerOnce } from './register-layer';

/** Options of {@link groupSort}. */
export interface GroupSortArgs extends BaseLayerArgs {
  /** Size of each group of consecutive channels (≥ 2; divides the channel count). */
  groupSize: number;
}

/** GroupSort activation as a tfjs layer (see {@link groupSort}). */
export class GroupSort extends tfl.layers.Layer {
  static className = 'GroupSort';
  readonly groupSize: number;
  private readonly op: LayerModule;

  constructor(args: GroupSortArgs) {
    super(args);
    assertPositiveInteger('groupSort', 'groupSize', args?.groupSize);
    this.groupSize = args.groupSize;
    this.op = groupSortModule({ groupSize: args.groupSize });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.op.apply(singleInput(inputs));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape('groupSort.computeOutputShape', inputShape);
    const c = shape[shape.length - 1];
    if (c != null && c % this.groupSize !== 0) {
      throw new LipschitzError('SHAPE_MISMATCH', `groupSort: the channel count must be a multiple of groupSize ${this.groupSize}, got input shape [${shape.join(', ')}].`);
    }
    return shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groupSize: this.groupSize };
  }
}
registerLayerOnce(GroupSort);

/**
 * GroupSort activation (Anil, Lucas & Grosse 2019) as a `tf.layers.Layer`: sorts each group of
 * `groupSize` consecutive channels (last axis) in descending order — `@lipschitz/layers`' `groupSort`.
 * 1-Lipschitz and gradient-norm preserving.
 *
 * @throws LipschitzError `INVALID_ARGUMENT` when `groupSize` is not an integer ≥ 2.
 * @example
 * ```ts
 * model.add(groupSort({ groupSize: 4 }));
 * ```
 */
export function groupSort(args: GroupSortArgs): GroupSort {
  return new GroupSort(args);
}
