// Issue 10, target 4: how step time and peak memory grow with the width of the Large model's channels
// (×0.5, ×1, ×2, ×4 of 32-32-64-64 convs and the 512-512 dense layers) and with the batch size (32–512),
// BCOP ("ours") and the same architecture with plain layers side by side, MNIST-shaped inputs, wasm.
// Each configuration: one warm-up step, then one step timed under tf.profile (wall time, peak bytes, op count).
// "ours" is BCOP with the default `projected` scheme (issue 14), FAST_POLAR and re-projection (`reproject: true`,
// REPROJECTED_BJORCK: one taped Björck step; step times include afterStep); the former default (Björck-20, Gram form)
// is added where it runs in bounded time: ×0.5 and ×1 at batch 128. The grid is subsampled to keep the run bounded on a shared
// 2-vCPU machine: BCOP at ×4 is skipped (the 12544×2048 dense orthogonalization alone is ≈1.5e12 flops
// per step forward+backward, tens of minutes here); batches 32 and 512 are run at ×1 only. A first full run
// aborted inside the wasm module (XNNPACK convolution setup failed, then `Aborted()` on allocation: the
// 4 GiB wasm heap) at one of the two largest configurations; they now run last and each row is written as it finishes.
import { prepareBackend } from '@lipschitz/backends';
import { bcopConv2d, bjorckDense, flatten, type LayerModule, maxMin, plainConv2d, plainDense, sequential } from '@lipschitz/layers';
import { writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { knob, lossFor, randomBatch, round, SCHEMES, type SchemeOptions, stepWithAfterStep } from './perf-common';

/** The Large network (reference §6) with every channel count and dense width multiplied by `width`, MNIST input. */
function largeWithWidth(width: number, kind: 'bcop' | 'plain', scheme: SchemeOptions = SCHEMES.projected) {
  const c1 = Math.round(32 * width);
  const c2 = Math.round(64 * width);
  const d = Math.round(512 * width);
  const o = scheme;
  const conv = (inChannels: number, outChannels: number, kernelSize: number, stride: number, seed: number): LayerModule =>
    kind === 'bcop' ? bcopConv2d({ inChannels, outChannels, kernelSize, stride, seed, ...o }) : plainConv2d({ inChannels, outChannels, kernelSize, stride, seed });
  const dense = (inputs: number, outputs: number, seed: number): LayerModule =>
    kind === 'bcop' ? bjorckDense({ inputs, outputs, seed, ...o }) : plainDense({ inputs, outputs, seed });
  return sequential([
    conv(1, c1, 3, 1, 0),
    maxMin(),
    conv(c1, c1, 4, 2, 1000),
    maxMin(),
    conv(c1, c2, 3, 1, 2000),
    maxMin(),
    conv(c2, c2, 4, 2, 3000),
    maxMin(),
    flatten(),
    dense(7 * 7 * c2, d, 4000),
    maxMin(),
    dense(d, d, 5000),
    maxMin(),
    dense(d, 10, 6000),
  ]);
}

type Variant = 'plain' | 'bcop-polarExpress' | 'bcop-bjorckGram' | 'bcop-reprojected' | 'bcop-projected';

const VARIANT_SCHEMES: Record<Exclude<Variant, 'plain'>, SchemeOptions> = {
  'bcop-polarExpress': SCHEMES.polarExpress,
  'bcop-bjorckGram': SCHEMES.bjorckGram,
  'bcop-reprojected': SCHEMES.reprojected,
  'bcop-projected': SCHEMES.projected,
};

async function run(width: number, batch: number, variant: Variant) {
  const model = variant === 'plain' ? largeWithWidth(width, 'plain') : largeWithWidth(width, 'bcop', VARIANT_SCHEMES[variant]);
  const optimizer = createOptimizer({ kind: 'adam' });
  const { x, y } = randomBatch('mnist-large', batch);
  const step = stepWithAfterStep(model, optimizer, x, y, lossFor('mnist-large'));
  const warm = await step();
  await warm.data();
  warm.dispose();
  const residentMB = tf.memory().numBytes / 2 ** 20; // parameters + Adam moments + the batch
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    const cost = await step();
    await cost.data();
    cost.dispose();
  });
  const stepMs = performance.now() - t0;
  const parameters = model.trainableVariables.reduce((n, v) => n + v.size, 0);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { width, batch, variant, parameters, stepMs: round(stepMs), peakMB: round(info.peakBytes / 2 ** 20), residentMB: round(residentMB), opCount: info.kernels.length };
}

test('perf: scaling of step time and peak memory with width and batch (wasm)', async () => {
  await prepareBackend('wasm');
  const fullGrid: [number, number, Variant[]][] = [
    [0.5, 128, ['plain', 'bcop-projected', 'bcop-reprojected', 'bcop-polarExpress', 'bcop-bjorckGram']],
    [1, 32, ['plain', 'bcop-projected', 'bcop-reprojected', 'bcop-polarExpress']],
    [1, 128, ['plain', 'bcop-projected', 'bcop-reprojected', 'bcop-polarExpress', 'bcop-bjorckGram']],
    [1, 512, ['plain', 'bcop-projected', 'bcop-reprojected']],
    [2, 128, ['plain', 'bcop-projected', 'bcop-reprojected']],
    [4, 128, ['plain']],
  ];
  // PERF_SCALING_MEMORY_ONLY=1: only ×1 at batch 128, plain vs the default (issue 14's peak-memory target), alternated
  // PERF_REPEATS times (default 3); written to perf-scaling-memory.json.
  const memoryOnly = knob('PERF_SCALING_MEMORY_ONLY', 2) === 1;
  const memoryRepeats = knob('PERF_REPEATS', 3);
  const grid: [number, number, Variant[]][] = memoryOnly
    ? Array.from({ length: memoryRepeats }, () => [1, 128, ['plain', 'bcop-projected']] as [number, number, Variant[]])
    : fullGrid;
  // PERF_SCALING_FROM = n starts at the n-th configuration, 1-based (a later part of the grid after an abort of the
  // wasm module, which ends the process); its rows go to perf-scaling-from-<n>.json.
  const from = knob('PERF_SCALING_FROM', 1) - 1;
  const rows: Record<string, unknown>[] = [];
  const save = () =>
    writeBenchResult(memoryOnly ? 'perf-scaling-memory' : from === 0 ? 'perf-scaling' : `perf-scaling-from-${from + 1}`, {
    description:
      'Large network, widths ×0.5–×4 (convs 32·w, 32·w, 64·w, 64·w; dense 512·w), MNIST input, batch 32–512; one warm-up step then ' +
      'one step timed under tf.profile (peakMB = tf.profile peakBytes; residentMB = tf.memory() after the warm-up). ' +
      'Subsampled grid (see the file header): at ×2 only plain and re-projection, ×4 plain only, batches 32/512 at ×1 only; bcop-projected = the layers\' default since issue 14 (rescaling forward + Newton–Schulz retraction in afterStep); bcop-bjorckGram = the default before (Björck-20, Gram form); bcop-reprojected and bcop-projected include afterStep. Single samples on a shared machine.',
    rows,
  });
  for (const [width, batch, variants] of grid.slice(from)) {
    let plainMs = 0;
    for (const variant of variants) {
      const r = await run(width, batch, variant);
      if (variant === 'plain') plainMs = r.stepMs;
      rows.push({ ...r, ratioToPlain: round(r.stepMs / plainMs) });
      save(); // written after every configuration: a missing row did not finish
    }
  }
});
