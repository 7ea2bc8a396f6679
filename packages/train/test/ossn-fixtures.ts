import { type ImageSet, subset, syntheticImages } from '@lipschitz/datasets';
import { type Sequential, bjorckDense, flatten, maxMin, ossnConv2d, sequential } from '@lipschitz/layers';

/** 96 synthetic 6×6×1 images of 4 classes: the first 64 to train on, the last 32 to test on. */
export function ossnData(): { trainSet: ImageSet; testSet: ImageSet } {
  const data = syntheticImages({ count: 96, height: 6, width: 6, channels: 1, numClasses: 4, seed: 3 });
  return { trainSet: subset(data, 0, 64), testSet: subset(data, 64, 32) };
}

/**
 * A tiny OSSN network (ossnConv2d 1→4, k = 3, at 6×6 → MaxMin → flatten → Björck dense 144→4): its conv keeps
 * the power-iteration vector u and the factor max(σ̂, 1) as `stateVariables`.
 */
export function ossnNetwork(): Sequential {
  return sequential([
    ossnConv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, inputSize: [6, 6], seed: 1 }),
    maxMin(),
    flatten(),
    bjorckDense({ inputs: 144, outputs: 4, seed: 2 }),
  ]);
}
