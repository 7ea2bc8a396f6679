// Issue 10, "profile first": where the time of a BCOP training step goes, on wasm, batch 128.
// Per layer of MNIST-Small and MNIST-Large (reference settings: Björck 20, power scaling):
// - kernelForwardMs: building the kernel from the parameters (what freeze() computes), forward only;
// - kernelForwardBackwardMs: the same with the gradient of the parameters (tf.variableGrads of Σ k²);
// - frozenForwardMs: the data path alone (kernel cached): one forward of the layer on the batch;
// - fullForwardBackwardMs: the layer as trained (kernel built on the tape, forward, gradients of the
//   parameters and of the input); dataPathBackwardEstimateMs = full − kernelForwardBackward − frozenForward.
// Per model and variant (bcop reference / bcop polarExpress / plain): one whole step under tf.profile:
// kernel (op) count, new tensors, peak bytes, and the ops that take the most time.
import { prepareBackend } from '@lipschitz/backends';
import type { LayerModule } from '@lipschitz/layers';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { buildModel, INPUT_SHAPES, knob, lossFor, type ModelName, randomBatch, round, SCHEMES, stepFn } from './perf-common';

const REPEATS = knob('PERF_REPEATS', 3);

interface KernelBuilder {
  computeKernels(): tf.Tensor[];
}

/** The object whose computeKernels builds the kernel (the inner BCOP of a strided conv), or null for stateless layers. */
function kernelBuilder(layer: LayerModule): KernelBuilder | null {
  if (layer.trainableVariables.length === 0) return null;
  const inner = (layer as unknown as { inner?: unknown }).inner ?? layer;
  return inner as KernelBuilder;
}

async function profileLayers(name: ModelName) {
  const model = buildModel(name, 'bcop');
  const rows: Record<string, unknown>[] = [];
  let x: tf.Tensor = tf.randomUniform([128, ...INPUT_SHAPES[name]], 0, 1, 'float32', 3);
  for (const layer of model.layers) {
    const row: Record<string, unknown> = { layer: layer.config.type, inputShape: x.shape.slice(1).join('×') };
    const input = x;
    const builder = kernelBuilder(layer);
    layer.freeze();
    const frozen = await measure(() => layer.apply(input), { warmup: 1, repeats: REPEATS });
    row.frozenForwardMs = round(frozen.medianMs);
    layer.unfreeze();
    if (builder) {
      const vars = layer.trainableVariables;
      const kf = await measure(() => tf.tidy(() => builder.computeKernels()[0].clone()), { warmup: 1, repeats: REPEATS });
      const kfb = await measure(
        () => tf.tidy(() => Object.values(tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(builder.computeKernels()[0]))), vars).grads)),
        { warmup: 1, repeats: REPEATS },
      );
      const xv = tf.variable(input, true);
      const full = await measure(
        () => tf.tidy(() => Object.values(tf.variableGrads(() => tf.tidy(() => tf.sum(tf.square(layer.apply(xv)))), [...vars, xv]).grads)),
        { warmup: 1, repeats: REPEATS },
      );
      xv.dispose();
      Object.assign(row, {
        parameters: vars.reduce((n, v) => n + v.size, 0),
        kernelForwardMs: round(kf.medianMs),
        kernelForwardBackwardMs: round(kfb.medianMs),
        fullForwardBackwardMs: round(full.medianMs),
        dataPathBackwardEstimateMs: round(full.medianMs - kfb.medianMs - frozen.medianMs),
        kernelShareOfFull: round(kfb.medianMs / full.medianMs),
      });
    }
    rows.push(row);
    x = tf.tidy(() => layer.apply(input));
    input.dispose();
  }
  x.dispose();
  model.dispose();
  return rows;
}

async function profileStep(name: ModelName, conv: 'bcop' | 'plain', scheme?: string) {
  const model = buildModel(name, conv, scheme ? SCHEMES[scheme] : undefined);
  const optimizer = createOptimizer({ kind: 'adam' });
  const { x, y } = randomBatch(name, 128);
  const step = stepFn(model, optimizer, x, y, lossFor(name));
  const warm = step();
  await warm.data();
  warm.dispose();
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    const cost = step();
    await cost.data();
    cost.dispose();
  });
  const wallMs = performance.now() - t0;
  const byKernel = new Map<string, { count: number; ms: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    kernelMs += ms;
    const e = byKernel.get(k.name) ?? { count: 0, ms: 0 };
    e.count++;
    e.ms += ms;
    byKernel.set(k.name, e);
  }
  const top = [...byKernel.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 8)
    .map(([op, e]) => ({ op, count: e.count, ms: round(e.ms) }));
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return {
    wallMsProfiled: round(wallMs),
    opCount: info.kernels.length,
    newTensors: info.newTensors,
    peakMB: round(info.peakBytes / 2 ** 20),
    sumKernelMs: round(kernelMs),
    perOpOverheadEstimateMs: round(wallMs - kernelMs),
    topOps: top,
  };
}

test('perf: per-layer and per-op profile of a training step (wasm, batch 128)', async () => {
  await prepareBackend('wasm');
  const layers: Record<string, unknown> = {};
  const steps: Record<string, Record<string, unknown>> = {};
  const save = () =>
    writeBenchResult('perf-profile', {
    description:
      'Per-layer times (median of PERF_REPEATS after 1 warmup; batch 128; BCOP with the reference Björck-20) and one profiled ' +
      'training step per model/variant (tf.profile: op count, peak memory, top ops by kernel time). Shared 2-vCPU machine: noisy.',
    repeats: REPEATS,
    layers,
    steps,
  });
  // Written after every part (a missing part did not finish): the cheap Small parts first.
  for (const name of ['mnist-small', 'mnist-large'] as ModelName[]) {
    steps[name] = {};
    for (const [label, conv, scheme] of [
      ['plain', 'plain', undefined],
      ['bcop-polarExpress', 'bcop', 'polarExpress'],
      ['bcop-reference', 'bcop', 'reference'],
    ] as const) {
      steps[name][label] = await profileStep(name, conv, scheme);
      save();
    }
    layers[name] = await profileLayers(name);
    save();
  }
});
