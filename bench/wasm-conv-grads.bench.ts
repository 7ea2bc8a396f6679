// Issue 14, item 2: the wasm data path before and after, in the same run (alternating rounds, medians):
// - micro: `Conv2DBackpropFilter` alone, 'conv' (the former formulation: one convolution whose "filter" is
//   the whole output gradient) against 'im2col' (patches gathered from the wasm heap and one matrix product
//   where the patch side is short, the conv formulation elsewhere), at the shapes of the paper's models'
//   convolutions (batch 128, circularly padded inputs, stride 1 'valid');
// - steps: the plain MNIST-Small / MNIST-Large Adam step, 'old' (former filter gradient + the stock wasm
//   Slice/SplitV/StridedSlice, which copy their whole input per slice) against 'new' (both changes), and
//   the kernel breakdown of one new step (tf.profile).
// WASM_GRADS_REPEATS (default 5) sets the rounds.
import { prepareBackend, registerWasmTrainingKernels, setWasmConvFilterGradFormulation, unregisterWasmTrainingKernels } from '@lipschitz/backends';
import { measure, writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { buildModel, knob, lossFor, type ModelName, randomBatch, round, stepFn } from './perf-common';

const REPEATS = knob('WASM_GRADS_REPEATS', 5);
const MICRO_ONLY = knob('WASM_GRADS_MICRO_ONLY', 2) === 1;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const HEAP_SLICES = ['Slice', 'SplitV', 'StridedSlice'] as const;

/** Selects a variant: the filter-gradient formulation, and for 'old' also the stock slicing kernels. */
function use(variant: string): void {
  const old = variant === 'old' || variant === 'conv';
  setWasmConvFilterGradFormulation(old ? 'conv' : 'im2col');
  if (variant === 'old') unregisterWasmTrainingKernels(HEAP_SLICES);
  else registerWasmTrainingKernels(HEAP_SLICES);
}

async function paired(run: () => unknown, rounds: number, variants: readonly [string, string] = ['conv', 'im2col']) {
  for (const v of variants) {
    use(v);
    await measure(run, { warmup: 0, repeats: 1 });
  }
  const samples: Record<string, number[]> = { [variants[0]]: [], [variants[1]]: [] };
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const v of i % 2 === 0 ? variants : ([variants[1], variants[0]] as const)) {
      use(v);
      samples[v].push((await measure(run, { warmup: 0, repeats: 1 })).medianMs);
    }
    ratios.push(samples[variants[1]][i] / samples[variants[0]][i]);
  }
  use('new');
  const stats = (t: number[]) => ({ medianMs: round(median(t)), minMs: round(Math.min(...t)), samples: t.map((x) => round(x, 1)) });
  return { [variants[0]]: stats(samples[variants[0]]), [variants[1]]: stats(samples[variants[1]]), ratio: round(median(ratios), 3) };
}

test('wasm Conv2DBackpropFilter: im2col vs the former conv formulation; plain steps', async () => {
  await prepareBackend('wasm');
  const started = performance.now();
  const out: Record<string, unknown> = {
    description:
      "Micro: Conv2DBackpropFilter on wasm, 'conv' (former: conv of the channel-major input with the output gradient as filter) vs 'im2col' " +
      "(transposed patch matrix gathered from the heap + one matMul where KH·KW·C ≤ 64, else the conv formulation), at the paper models' shapes " +
      "(batch 128, padded input, stride 1 'valid'). Steps: plain MNIST-Small / MNIST-Large Adam step at batch 128, 'old' (conv filter gradient + " +
      "stock wasm Slice/SplitV/StridedSlice) vs 'new' (im2col + heap-view slicing). Alternating rounds; ratio = median of per-round second/first.",
    repeats: REPEATS,
    loadAverageAtStart: (await import('node:os')).loadavg(),
  };
  const save = (key: string, value: unknown) => {
    out[key] = value;
    out.totalBenchMs = round(performance.now() - started);
    writeBenchResult('wasm-conv-grads', out);
  };
  const cases = [
    { where: 'small conv1', x: [128, 15, 15, 4], k: 2, cout: 16 },
    { where: 'small conv2', x: [128, 8, 8, 64], k: 2, cout: 32 },
    { where: 'large conv1', x: [128, 30, 30, 1], k: 3, cout: 32 },
    { where: 'large conv2', x: [128, 15, 15, 128], k: 2, cout: 32 },
    { where: 'large conv3', x: [128, 16, 16, 32], k: 3, cout: 64 },
    { where: 'large conv4', x: [128, 8, 8, 256], k: 2, cout: 64 },
  ];
  const micro: Record<string, unknown>[] = [];
  for (const c of cases) {
    const x = tf.randomNormal(c.x as [number, number, number, number], 0, 1, 'float32', 1) as tf.Tensor4D;
    const oh = c.x[1] - c.k + 1;
    const dy = tf.randomNormal([c.x[0], oh, oh, c.cout], 0, 1, 'float32', 2) as tf.Tensor4D;
    const filterShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.cout];
    const kernel = () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    micro.push({ where: c.where, x: c.x.join('×'), kernelSize: c.k, outChannels: c.cout, ...(await paired(kernel, 2 * REPEATS + 1)) });
    tf.dispose([x, dy]);
    save('micro', micro);
  }
  if (MICRO_ONLY) return;
  const steps: Record<string, unknown> = {};
  for (const name of ['mnist-small', 'mnist-large'] as ModelName[]) {
    const { x, y } = randomBatch(name, 128);
    const model = buildModel(name, 'plain');
    const optimizer = createOptimizer({ kind: 'adam' });
    const step = stepFn(model, optimizer, x, y, lossFor(name));
    const row: Record<string, unknown> = await paired(step, name === 'mnist-small' ? REPEATS + 2 : REPEATS, ['old', 'new']);
    const info = await tf.profile(async () => {
      const cost = step();
      await cost.data();
      cost.dispose();
    });
    const byOp = new Map<string, { count: number; ms: number }>();
    for (const k of info.kernels) {
      const e = byOp.get(k.name) ?? { count: 0, ms: 0 };
      e.count++;
      e.ms += k.kernelTimeMs as number;
      byOp.set(k.name, e);
    }
    row.opCount = info.kernels.length;
    row.topOps = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12).map(([op, e]) => ({ op, count: e.count, ms: round(e.ms) }));
    steps[`${name} plain`] = row;
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
    save('steps', steps);
  }
});
