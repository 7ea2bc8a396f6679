import { LipschitzError } from '@lipschitz/core';
import { type ActivationType, type Sequential, bjorckDense, dcganCritic, groupSort, maxMin, relu, sequential } from '@lipschitz/layers';
import { TABLE4_CONVS } from './gan/table4-critic';

/** The critics: the Table-4 convolution types (a subset of `CONV_TYPES` of `@lipschitz/layers`) and a dense MLP. */
export const CRITICS = [...TABLE4_CONVS, 'dense'] as const;
export type CriticType = (typeof CRITICS)[number];

/**
 * The critic of a W1 estimate. For image-shaped inputs (h = w dividing 64) the reference's DCGAN critic with
 * the given conv type; `dense` (or any flat input) a 3-layer Björck-orthogonal MLP of width 256 with the
 * activation — every layer gradient-norm preserving with MaxMin.
 */
export function buildCritic(type: CriticType, activation: ActivationType, inputShape: number[], seed: number): Sequential {
  const isImage = inputShape.length === 3 && inputShape[0] === inputShape[1] && 64 % inputShape[0] === 0;
  if (type !== 'dense') {
    if (!isImage) {
      throw new LipschitzError(
        'INVALID_ARGUMENT',
        `--critic ${type} needs image samples of shape [h, h, c] with h dividing 64 (e.g. 32×32×3, or MNIST padded to 32); use --critic dense for flat points (got [${inputShape.join(', ')}]).`,
      );
    }
    return dcganCritic({ conv: type, activation, inputShape: inputShape as [number, number, number], numClasses: 1, seed });
  }
  const features = inputShape.reduce((x, y) => x * y, 1);
  const act = () => (activation === 'relu' ? relu() : activation === 'maxmin' ? maxMin() : groupSort({ groupSize: 2 }));
  return sequential([
    bjorckDense({ inputs: features, outputs: 256, seed }),
    act(),
    bjorckDense({ inputs: 256, outputs: 256, seed: seed + 1 }),
    act(),
    bjorckDense({ inputs: 256, outputs: 1, seed: seed + 2 }),
  ]);
}
