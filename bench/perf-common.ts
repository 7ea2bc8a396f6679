// Shared helpers of the perf-* benchmarks (issue 10). Not a benchmark itself (no `.bench.ts`).
import { multiMarginLoss } from '@lipschitz/certify';
import type { LipschitzModule } from '@lipschitz/core';
import { type ConvType, largeConvNet, type Sequential, smallConvNet } from '@lipschitz/layers';
import { FAST_POLAR, type OrthogonalizerSpec, REFERENCE_BJORCK_GRAM } from '@lipschitz/orthogonalize';
import type { Timing } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';

/** The reference's figures (LConvNet, PyTorch 1.13 + OpenBLAS, 2 vCPUs; issue 10), in ms. */
export const REFERENCE_MS = {
  mnistSmallStep: 63,
  mnistLargeStep: 1935,
  cifarLargeStep: 2458,
  mnistSmallEpoch: 32_500,
  evalSmall1000: 52,
  evalLarge1000: 681,
  certifyLarge10k: 6810,
} as const;

/** Orthogonalizer variants compared: the reference Björck-20 (the layers' default), and the faster options. */
export const SCHEMES: Record<string, OrthogonalizerSpec | undefined> = {
  reference: undefined, // the layers' default: Björck 20 it., β 0.5, order 1, power scaling (REFERENCE_BJORCK, fixed seed)
  bjorckGram: REFERENCE_BJORCK_GRAM as OrthogonalizerSpec,
  polarExpress: FAST_POLAR as OrthogonalizerSpec,
};

export type ModelName = 'mnist-small' | 'mnist-large' | 'cifar-large';

export const INPUT_SHAPES: Record<ModelName, [number, number, number]> = {
  'mnist-small': [28, 28, 1],
  'mnist-large': [28, 28, 1],
  'cifar-large': [32, 32, 3],
};

/** The paper's model with `conv` layers (`'plain'`: same architecture, unconstrained convs and dense layers). */
export function buildModel(name: ModelName, conv: ConvType, orthogonalizer?: OrthogonalizerSpec, seed = 0): Sequential {
  const options = { conv, inputShape: INPUT_SHAPES[name], seed, ...(orthogonalizer ? { orthogonalizer } : {}) };
  return name === 'mnist-small' ? smallConvNet(options) : largeConvNet(options);
}

/** The reference's hinge loss (ε = 1.5 on MNIST, 0.5 on CIFAR-10). */
export function lossFor(name: ModelName) {
  const epsilon = name.startsWith('cifar') ? 0.5 : 1.5;
  return (z: tf.Tensor, y: tf.Tensor) => multiMarginLoss(z, y, { epsilon });
}

/** One Adam step (forward + backward + update) without reading anything back but the loss (as `measure` does). */
export function stepFn(model: LipschitzModule, optimizer: tf.Optimizer, x: tf.Tensor, y: tf.Tensor, loss: (z: tf.Tensor, y: tf.Tensor) => tf.Scalar) {
  return () => tf.tidy(() => optimizer.minimize(() => loss(model.apply(x), y), true, model.trainableVariables) as tf.Scalar);
}

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export const summary = (t: Timing) => ({ medianMs: round(t.medianMs), minMs: round(t.minMs), samples: t.samples.map((s) => round(s, 1)) });

/** A random batch shaped like the model's input (values in [0, 1], labels in 0..9), seeded. */
export function randomBatch(name: ModelName, batch: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = INPUT_SHAPES[name];
  return { x: tf.randomUniform([batch, h, w, c], 0, 1, 'float32', seed) as tf.Tensor4D, y: tf.randomUniform([batch], 0, 10, 'int32', seed + 1) as tf.Tensor1D };
}

/** A numeric knob of the perf benchmarks from the environment (e.g. `PERF_REPEATS=5`), or `fallback`. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}
