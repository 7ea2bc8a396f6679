// Issue 14, item 5: certification and PGD throughput on wasm, before and after this change, in the same run
// (alternating rounds, medians):
// - 'old': the former data path (stock wasm Slice/SplitV/StridedSlice, which copy their whole input per slice;
//   the conv-formulation filter gradient; frozen circular convolutions that still compute the kernel gradient);
// - 'new': heap-view slicing, the patch-matrix filter gradient, frozen convolutions differentiated for ∂x only.
// Sections: the frozen BCOP-Large forward of CERT_IMAGES MNIST test images (batch 100 old/new, and new with
// batch 500), extrapolated to 10,000; `certifyModel` on the 10,000 test images (new, batch 500, once); PGD-200
// (reference settings) with frozen BCOP-Small on PGD_IMAGES images (batch 100 old/new), extrapolated to 1,000,
// and new with one batch of all PGD_IMAGES.
import { prepareBackend, registerWasmTrainingKernels, setWasmConvFilterGradFormulation, unregisterWasmTrainingKernels } from '@lipschitz/backends';
import { circularConv2d } from '@lipschitz/blockconv';
import { certifyModel, pgdAttack } from '@lipschitz/certify';
import { mnist } from '@lipschitz/datasets';
import { CircularConvLayer } from '@lipschitz/layers';
import { writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { test } from 'vitest';
import { buildModel, knob, round } from './perf-common';

const ROUNDS = knob('CERT_ROUNDS', 3);
const CERT_IMAGES = knob('CERT_IMAGES', 2000);
const PGD_IMAGES = knob('PGD_IMAGES', 100);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

type Forward = (x: tf.Tensor, kernels: readonly tf.Tensor[]) => tf.Tensor;
const convProto = CircularConvLayer.prototype as unknown as { forward: Forward };
const NEW_FORWARD = convProto.forward;
// The former forward: the gradient node always differentiates the kernel too.
const OLD_FORWARD: Forward = (x, k) => circularConv2d(x as tf.Tensor4D, k[0] as tf.Tensor4D, k[1] as tf.Tensor1D | undefined);
const SLICES = ['Slice', 'SplitV', 'StridedSlice'] as const;

function use(variant: 'old' | 'new'): void {
  setWasmConvFilterGradFormulation(variant === 'old' ? 'conv' : 'im2col');
  if (variant === 'old') unregisterWasmTrainingKernels(SLICES);
  else registerWasmTrainingKernels(SLICES);
  convProto.forward = variant === 'old' ? OLD_FORWARD : NEW_FORWARD;
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

test('certification and PGD throughput: old vs new data path (wasm)', async () => {
  await prepareBackend('wasm');
  const started = performance.now();
  const out: Record<string, unknown> = {
    description:
      "old = stock wasm Slice/SplitV/StridedSlice + conv-formulation filter gradient + frozen convs differentiating the kernel; new = this change. " +
      'Alternating rounds; ratio = median of per-round new/old. Untrained seeded models, real MNIST test images.',
    rounds: ROUNDS,
    loadAverageAtStart: loadavg(),
  };
  const save = (key: string, value: unknown) => {
    out[key] = value;
    out.totalBenchMs = round(performance.now() - started);
    out.loadAverageNow = loadavg();
    writeBenchResult('certify-pgd-speed', out);
  };
  const { test: testSet } = await mnist();
  const images = tf.tensor4d(testSet.images, [testSet.count, 28, 28, 1]);
  const labels = tf.tensor1d(testSet.labels, 'int32');

  // 1. Frozen BCOP-Large forward.
  const large = buildModel('mnist-large', 'bcop');
  large.freeze();
  const forward = (count: number, batch: number) => async () => {
    for (let offset = 0; offset < count; offset += batch) {
      const z = tf.tidy(() => large.apply(tf.slice(images, offset, Math.min(batch, count - offset))));
      await z.data();
      z.dispose();
    }
  };
  const runs: Record<string, { variant: 'old' | 'new'; batch: number }> = { 'old b100': { variant: 'old', batch: 100 }, 'new b100': { variant: 'new', batch: 100 }, 'new b500': { variant: 'new', batch: 500 } };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (const [, r] of Object.entries(runs)) {
    use(r.variant);
    await forward(500, r.batch)(); // warm-up
  }
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? Object.keys(runs) : Object.keys(runs).reverse();
    for (const k of order) {
      use(runs[k].variant);
      samples[k].push(await timed(forward(CERT_IMAGES, runs[k].batch)));
    }
  }
  const per10k = (ms: number) => round((ms * 10_000) / CERT_IMAGES);
  save('frozenForwardLarge', {
    images: CERT_IMAGES,
    ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { medianMs: round(median(v)), extrapolatedTo10kMs: per10k(median(v)), samples: v.map((x) => round(x, 1)) }])),
    ratioNewB100ToOld: round(median(samples['new b100'].map((v, i) => v / samples['old b100'][i])), 3),
    ratioNewB500ToOld: round(median(samples['new b500'].map((v, i) => v / samples['old b100'][i])), 3),
  });

  // 2. certifyModel on the 10,000 test images (new, batch 500), once.
  use('new');
  large.unfreeze();
  const certifyMs = await timed(() => certifyModel(large, images, labels, { epsilons: [1.58, 0.3], inputShape: [28, 28, 1], batchSize: 500 }));
  large.dispose();
  save('certifyLarge10k', { images: testSet.count, batchSize: 500, certifyModelMs: round(certifyMs), note: 'freeze, exact float64 bound, forward, margins' });

  // 3. PGD-200 with frozen BCOP-Small.
  const small = buildModel('mnist-small', 'bcop');
  small.freeze();
  const x = tf.slice(images, 0, PGD_IMAGES);
  const y = tf.slice(labels, 0, PGD_IMAGES);
  const pgd = (batchSize: number) => () => pgdAttack((a) => small.apply(a), x, y, { epsilon: 1.58, steps: 200, stepSize: 0.01, batchSize });
  const pgdSamples: Record<'old' | 'new', number[]> = { old: [], new: [] };
  for (let i = 0; i < Math.max(2, ROUNDS - 1); i++) {
    for (const v of i % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      use(v);
      pgdSamples[v].push(await timed(pgd(100)));
    }
  }
  use('new');
  const oneBatchMs = await timed(pgd(PGD_IMAGES));
  const per1000 = (ms: number) => round((ms * 1000) / PGD_IMAGES);
  save('pgd200Small', {
    images: PGD_IMAGES,
    oldB100: { medianMs: round(median(pgdSamples.old)), extrapolatedTo1000Ms: per1000(median(pgdSamples.old)), samples: pgdSamples.old.map((v) => round(v, 1)) },
    newB100: { medianMs: round(median(pgdSamples.new)), extrapolatedTo1000Ms: per1000(median(pgdSamples.new)), samples: pgdSamples.new.map((v) => round(v, 1)) },
    ratioNewToOld: round(median(pgdSamples.new.map((v, i) => v / pgdSamples.old[i])), 3),
    newOneBatch: { batchSize: PGD_IMAGES, ms: round(oneBatchMs), extrapolatedTo1000Ms: per1000(oneBatchMs) },
  });
  small.dispose();
  tf.dispose([x, y, images, labels]);
});
