// Issue 10, targets 1–3, on the default Node backend (wasm + @lipschitz/backends' training kernels):
// - training step (forward + backward + Adam, batch 128, the reference hinge loss) of MNIST-Small,
//   MNIST-Large and CIFAR-Large: BCOP with the reference Björck-20 (the layers' default), BCOP with the
//   faster orthogonalizer options, and the same architecture with plain layers, all in the same run;
// - one MNIST-Small epoch with data loading (real MNIST, shuffled batches of 128): a limited number of
//   steps timed end to end, extrapolated to the 469 steps of an epoch (said in the JSON);
// - frozen inference of 1,000 images (kernels cached), ours vs plain;
// - certification of the 10,000 MNIST test images with BCOP-Large (`certifyModel`: freeze, forward,
//   margins, exact float64 bound);
// - PGD-200 (reference settings) on a subset of images, extrapolated to 1,000.
// Models are untrained (seeded init): step, inference and certification times do not depend on the weights.
// Issue 14: after each model's steps, the PyTorch reference step (bench/pytorch/bcop_step.py: BCOP with the
// reference's Björck-20, batch 128, Adam, one thread; Debian's python3-torch, installed by the bench when
// root) is timed in the same run: `pytorchStepMs` and `ratioToPytorch` (ours / PyTorch) per variant.
// PERF_REPEATS (default 3; Large models use max(1, PERF_REPEATS − 1)) sets the timed repeats.
// bcop-reprojected (the layers' `reproject: true` + REPROJECTED_BJORCK) times the optimizer step plus
// `model.afterStep` (the re-projection), as the training loop runs them.
import { prepareBackend } from '@lipschitz/backends';
import { certifyModel, pgdAttack } from '@lipschitz/certify';
import { batches, mnist } from '@lipschitz/datasets';
import { measure, type Timing, writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import type { LipschitzModule } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import {
  buildModel,
  knob,
  lossFor,
  pytorchReference,
  type ModelName,
  REFERENCE_MS,
  REPROJECTED_SCHEMES,
  randomBatch,
  round,
  SCHEMES,
  stepFn,
  stepWithAfterStep,
  summary,
} from './perf-common';

const REPEATS = knob('PERF_REPEATS', 3);
const EPOCH_STEPS = knob('PERF_EPOCH_STEPS', 20);
const PGD_IMAGES = knob('PERF_PGD_IMAGES', 100);
// PERF_LARGE_ONLY=1: only the MNIST-Large and CIFAR-Large steps, written to perf-steps-large.json (a re-run of the noisiest part).
const LARGE_ONLY = knob('PERF_LARGE_ONLY', 2) === 1;
// PERF_SMALL_ONLY=1: only the MNIST-Small steps, written to perf-steps-small.json.
const SMALL_ONLY = knob('PERF_SMALL_ONLY', 2) === 1;
// PERF_INFERENCE_ONLY=1: only the frozen-inference section, written to perf-steps-inference.json.
const INFERENCE_ONLY = knob('PERF_INFERENCE_ONLY', 2) === 1;

const STEP_REFERENCE: Record<ModelName, number> = {
  'mnist-small': REFERENCE_MS.mnistSmallStep,
  'mnist-large': REFERENCE_MS.mnistLargeStep,
  'cifar-large': REFERENCE_MS.cifarLargeStep,
};

async function timeStep(name: ModelName, conv: 'bcop' | 'plain', scheme: string | undefined, x: tf.Tensor, y: tf.Tensor): Promise<Timing> {
  const reproject = scheme !== undefined && REPROJECTED_SCHEMES.has(scheme);
  const model = buildModel(name, conv, scheme ? SCHEMES[scheme] : undefined, 0);
  const optimizer = createOptimizer({ kind: 'adam' });
  try {
    const repeats = name === 'mnist-small' ? REPEATS : Math.max(1, REPEATS - 1);
    const step = reproject ? stepWithAfterStep(model, optimizer, x, y, lossFor(name)) : stepFn(model, optimizer, x, y, lossFor(name));
    return await measure(step, { warmup: 1, repeats });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

test('perf: training steps, epoch, frozen inference, certification, PGD (wasm)', async () => {
  await prepareBackend('wasm');
  const started = performance.now();
  const out: Record<string, unknown> = {
    description:
      'Issue 10 targets 1–3 on wasm. Steps: batch 128, Adam, reference hinge loss, untrained seeded models, random inputs; ' +
      'bcop-reference = REFERENCE_BJORCK (the reference\'s literal Björck 20, power scaling); bcop-bjorckGram = the layers\' default (the same iterates in the Gram form, REFERENCE_BJORCK_GRAM); bcop-polarExpress = FAST_POLAR; ' +
      'bcop-reprojected = reproject: true + REPROJECTED_BJORCK (1 Björck step), timed as optimizer step + model.afterStep (the re-projection); ' +
      'plain = same architecture with plainConv2d (circular) / plainDense. Medians of few repeats on a shared 2-vCPU machine: compare same-run ratios. ' +
      'Sections are written as they finish (a missing section did not finish).',
    repeats: REPEATS,
  };
  const save = (key: string, value: unknown) => {
    out[key] = value;
    out.totalBenchMs = round(performance.now() - started);
    writeBenchResult(LARGE_ONLY ? 'perf-steps-large' : SMALL_ONLY ? 'perf-steps-small' : INFERENCE_ONLY ? 'perf-steps-inference' : 'perf-steps', out);
  };

  // 1. Training steps, batch 128.
  const steps: Record<string, unknown> = {};
  const runSteps = async (names: ModelName[]) => {
  for (const name of names) {
    const { x, y } = randomBatch(name, 128);
    const plain = await timeStep(name, 'plain', undefined, x, y);
    const row: Record<string, unknown> = { plain: summary(plain), referenceFigureMs: STEP_REFERENCE[name] };
    for (const scheme of name === 'mnist-small' ? Object.keys(SCHEMES) : ['bjorckGram', 'polarExpress', 'reprojected', 'projected']) {
      const t = await timeStep(name, 'bcop', scheme, x, y);
      row[`bcop-${scheme}`] = {
        ...summary(t),
        ratioToPlain: round(t.medianMs / plain.medianMs),
        ratioToReferenceFigure: round(t.medianMs / STEP_REFERENCE[name]),
      };
    }
    // The PyTorch reference step (BCOP Björck-20, one thread), measured now, minutes from ours.
    const torch = pytorchReference([name], name === 'mnist-small' ? Math.max(5, REPEATS) : Math.max(3, REPEATS));
    if (torch.available) {
      const pytorchStepMs = torch.models[name].medianMs;
      row.pytorch = { torch: torch.torch, threads: torch.threads, ...torch.models[name] };
      row.pytorchStepMs = pytorchStepMs;
      row.ratioToPytorch = Object.fromEntries(
        Object.entries(row)
          .filter(([, v]) => typeof v === 'object' && v !== null && 'medianMs' in v && !('torch' in v))
          .map(([k, v]) => [k, round((v as { medianMs: number }).medianMs / pytorchStepMs, 3)]),
      );
    } else {
      row.pytorch = { notMeasured: torch.reason };
    }
    steps[name] = row;
    tf.dispose([x, y]);
    save('steps', steps);
  }
  };
  if (LARGE_ONLY) {
    await runSteps(['mnist-large', 'cifar-large']);
    return;
  }
  if (!INFERENCE_ONLY) await runSteps(['mnist-small']);
  if (SMALL_ONLY) return;

  // 2. One MNIST-Small epoch with data loading, extrapolated from EPOCH_STEPS steps.
  const loadStart = performance.now();
  const { train, test: testSet } = await mnist();
  const loadMs = performance.now() - loadStart;
  const epoch: Record<string, unknown> = { timedSteps: EPOCH_STEPS, stepsPerEpoch: 469, mnistLoadMs: round(loadMs), referenceFigureMs: REFERENCE_MS.mnistSmallEpoch };
  for (const [label, conv, scheme] of (INFERENCE_ONLY ? [] : [
    ['plain', 'plain', undefined],
    ['bcop-bjorckGram', 'bcop', 'bjorckGram'],
    ['bcop-polarExpress', 'bcop', 'polarExpress'],
    ['bcop-reprojected', 'bcop', 'reprojected'],
    ['bcop-projected', 'bcop', 'projected'],
  ]) as [string, 'plain' | 'bcop', string | undefined][]) {
    const reproject = scheme !== undefined && REPROJECTED_SCHEMES.has(scheme);
    const model = buildModel('mnist-small', conv, scheme ? SCHEMES[scheme] : undefined, 0);
    const optimizer = createOptimizer({ kind: 'adam' });
    const loss = lossFor('mnist-small');
    const t0 = performance.now();
    let n = 0;
    for (const { x, y } of batches(train, { batchSize: 128, shuffle: true, seed: 1 })) {
      const cost = stepFn(model, optimizer, x, y, loss)();
      if (reproject) await model.afterStep(n + 1);
      await cost.data(); // the loop reads the loss back, as a progress bar would
      tf.dispose([cost, x, y]);
      if (++n >= EPOCH_STEPS) break;
    }
    const ms = performance.now() - t0;
    const extrapolated = (ms / n) * 469 + loadMs;
    epoch[label] = { msPerStep: round(ms / n), extrapolatedEpochMs: round(extrapolated), ratioToReferenceFigure: round(extrapolated / REFERENCE_MS.mnistSmallEpoch) };
    optimizer.dispose();
    model.dispose();
    save('epoch', epoch);
  }

  // 3. Frozen inference of 1,000 MNIST test images (batches of 100, kernels cached). Both models are built, frozen
  // and warmed first, then timed in alternating rounds (plain, bcop, plain, bcop, …): the ratio is the median of
  // the per-round ratios, so that a slow phase of the shared machine hits both sides alike.
  const inference: Record<string, unknown> = {};
  const images1k = tf.tensor4d(testSet.images.subarray(0, 1000 * 784), [1000, 28, 28, 1]);
  for (const name of ['mnist-small', 'mnist-large'] as ModelName[]) {
    const models = { plain: buildModel(name, 'plain'), bcop: buildModel(name, 'bcop') };
    const forwardOf = (model: LipschitzModule) => async () => {
      const z = tf.tidy(() => tf.concat(Array.from({ length: 10 }, (_, i) => model.apply(tf.slice(images1k, [i * 100, 0, 0, 0], [100, 28, 28, 1])))));
      await z.data();
      z.dispose();
    };
    const samples: Record<'plain' | 'bcop', number[]> = { plain: [], bcop: [] };
    for (const m of Object.values(models)) {
      m.freeze();
      await forwardOf(m)(); // warm-up
    }
    const rounds = REPEATS + 4;
    for (let r = 0; r < rounds; r++) {
      for (const conv of ['plain', 'bcop'] as const) {
        const t0 = performance.now();
        await forwardOf(models[conv])();
        samples[conv].push(performance.now() - t0);
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const side = (v: number[]) => ({ medianMs: round(median(v)), minMs: round(Math.min(...v)), samples: v.map((x) => round(x, 1)) });
    inference[name] = {
      referenceFigureMs: name === 'mnist-small' ? REFERENCE_MS.evalSmall1000 : REFERENCE_MS.evalLarge1000,
      rounds,
      plain: side(samples.plain),
      bcop: side(samples.bcop),
      ratioToPlain: round(median(samples.bcop.map((b, i) => b / samples.plain[i])), 3),
    };
    for (const m of Object.values(models)) m.dispose();
    save('inference', inference);
  }
  images1k.dispose();
  if (INFERENCE_ONLY) return;

  // 4. Certification of the 10,000 MNIST test images with BCOP-Large (forward, margins, exact bound).
  const images10k = tf.tensor4d(testSet.images, [testSet.count, 28, 28, 1]);
  const labels10k = tf.tensor1d(testSet.labels, 'int32');
  const large = buildModel('mnist-large', 'bcop');
  const c0 = performance.now();
  const report = await certifyModel(large, images10k, labels10k, { epsilons: [1.58, 0.3], inputShape: [28, 28, 1], batchSize: 100 });
  const certifyMs = performance.now() - c0;
  large.freeze();
  const f0 = performance.now();
  for (let i = 0; i < 100; i++) {
    const z = tf.tidy(() => large.apply(tf.slice(images10k, [i * 100, 0, 0, 0], [100, 28, 28, 1])));
    await z.data();
    z.dispose();
  }
  const forwardOnlyMs = performance.now() - f0;
  large.dispose();
  const certification = {
    images: testSet.count,
    certifyModelMs: round(certifyMs),
    forwardOnlyFrozenMs: round(forwardOnlyMs),
    referenceFigureMs: REFERENCE_MS.certifyLarge10k,
    ratioToReferenceFigure: round(certifyMs / REFERENCE_MS.certifyLarge10k),
    lipschitzUpperBound: report.lipschitzUpperBound,
    note: 'untrained seeded model; the time does not depend on the weights',
  };
  save('certification', certification);

  // 5. PGD-200 (ε 1.58, α 0.01, reference settings, batch 100) with frozen BCOP-Small, on PGD_IMAGES images, extrapolated to 1,000.
  const small = buildModel('mnist-small', 'bcop');
  small.freeze();
  const pgdImages = tf.slice(images10k, [0, 0, 0, 0], [PGD_IMAGES, 28, 28, 1]);
  const pgdLabels = tf.slice(labels10k, [0], [PGD_IMAGES]);
  const p0 = performance.now();
  const attack = await pgdAttack((x) => small.apply(x), pgdImages, pgdLabels, { epsilon: 1.58, steps: 200, stepSize: 0.01, batchSize: 100 });
  const pgdMs = performance.now() - p0;
  small.dispose();
  tf.dispose([pgdImages, pgdLabels, images10k, labels10k]);
  const pgd = {
    model: 'BCOP MNIST-Small (frozen, untrained)',
    images: PGD_IMAGES,
    steps: 200,
    measuredMs: round(pgdMs),
    extrapolatedTo1000Ms: round((pgdMs * 1000) / PGD_IMAGES),
    robustAccuracy: attack.robustAccuracy,
  };

  save('pgd', pgd);

  // 1b. The Large steps last (the slowest part).
  await runSteps(['mnist-large', 'cifar-large']);
});
