// The cost of the `projected` retraction's Newton–Schulz step count (`retractionSteps`, `robustness train
// --retraction-steps`): one training step (batch 128: forward + backward + Adam + afterStep, loss read back) of
// FC-3 (Table 2: Björck dense 784→1024→1024→1024→10), MNIST-Large and MNIST-Small with the default 2 steps and with 1,
// in ALTERNATING rounds so that the load of a shared machine hits both alike; ratios are medians of per-round ratios.
// CPU time (user + system of this process; wasm runs one thread) is reported beside wall time: on a loaded machine it
// is far steadier. The timed steps repeat one random batch (the cost does not depend on the data).
// What one step leaves: FC-3 trained on real MNIST batches (the first PERF_DRIFT_STEPS steps, default 60, of a seeded
// run; Adam 1e-3, the hinge loss) with 2 and with 1 step; after every listed step, the largest drift off the scaled
// manifold among its orthogonal weights, max ‖WᵀW/c² − I‖_F/√n, right after the Adam step and after the retraction,
// and c = ‖W‖_F/√n. (A repeated batch exaggerates it: Adam then moves every entry by ±lr at every step.)
// Knobs: PERF_REPEATS (rounds, default 5), PERF_STEPS (steps per round, default 3), PERF_MODELS (comma list of
// fc3, mnist-large, mnist-small; default all), PERF_DRIFT_STEPS (0 skips). Writes bench/results/retraction-steps.json.
import { loadavg } from 'node:os';
import { prepareBackend } from '@lipschitz/backends';
import { mnist } from '@lipschitz/datasets';
import { fc3, type Sequential } from '@lipschitz/layers';
import { newtonSchulzRetraction } from '@lipschitz/orthogonalize';
import { writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { buildModel, cpuMs, knob, listKnob, lossFor, median, randomBatch, round, stepFn } from './perf-common';

const ROUNDS = knob('PERF_REPEATS', 5);
const STEPS = knob('PERF_STEPS', 3);
const MODELS = listKnob('PERF_MODELS') ?? ['fc3', 'mnist-large', 'mnist-small'];
const DRIFT_STEPS = knob('PERF_DRIFT_STEPS', 60);
const VARIANTS = [2, 1] as const;

function model(name: string, retractionSteps: number): Sequential {
  if (name === 'fc3') return fc3({ conv: 'bcop', inputShape: [28, 28, 1], seed: 0, orthogonalization: 'projected', retractionSteps });
  return buildModel(name as 'mnist-small' | 'mnist-large', 'bcop', { orthogonalization: 'projected', retractionSteps });
}

/** The largest drift off the scaled manifold among the model's weight matrices (rank ≥ 2), and the smallest scale c. */
async function maxDrift(m: Sequential): Promise<{ drift: number; minScale: number }> {
  let drift = 0;
  let minScale = Number.POSITIVE_INFINITY;
  for (const v of m.trainableVariables) {
    if (v.rank < 2) continue;
    const n = Math.min(v.shape[v.rank - 2], v.shape[v.rank - 1]);
    const r = newtonSchulzRetraction(v, { steps: 1 });
    const norm = tf.tidy(() => tf.sqrt(tf.div(tf.sum(tf.square(v)), n)));
    drift = Math.max(drift, (await r.drift.data())[0]);
    minScale = Math.min(minScale, (await norm.data())[0]);
    tf.dispose([r.value, r.drift, norm]);
  }
  return { drift: Number(drift.toPrecision(3)), minScale: Number(minScale.toPrecision(3)) };
}

/** FC-3 on real MNIST batches, `steps` steps; the drift after the Adam step and after the retraction at chosen steps. */
async function driftOnMnist(retractionSteps: number, steps: number) {
  const { train } = await mnist();
  const m = model('fc3', retractionSteps);
  const optimizer = createOptimizer({ kind: 'adam' });
  const loss = lossFor('mnist-small');
  const rows: { step: number; afterAdam: number; afterRetraction: number; minScale: number }[] = [];
  for (let s = 1; s <= steps; s++) {
    const o = ((s - 1) * 128) % (train.count - 128);
    const x = tf.tensor4d(train.images.subarray(o * 784, (o + 128) * 784), [128, 28, 28, 1]);
    const y = tf.tensor1d(train.labels.subarray(o, o + 128), 'int32');
    tf.tidy(() => {
      optimizer.minimize(() => loss(m.apply(x), y), false, m.trainableVariables);
    });
    const listed = s <= 3 || s % 10 === 0;
    const afterAdam = listed ? await maxDrift(m) : null;
    await m.afterStep?.(s);
    if (afterAdam) {
      const after = await maxDrift(m);
      rows.push({ step: s, afterAdam: afterAdam.drift, afterRetraction: after.drift, minScale: after.minScale });
    }
    tf.dispose([x, y]);
  }
  optimizer.dispose();
  m.dispose();
  return rows;
}

test('retraction steps: 2 (default) vs 1, alternating rounds (wasm)', async () => {
  await prepareBackend('wasm');
  const out: Record<string, unknown> = { rounds: ROUNDS, stepsPerRound: STEPS, loadavgStart: loadavg().map((l) => round(l)) };
  for (const name of MODELS) {
    const inputName = name === 'fc3' ? 'mnist-small' : (name as 'mnist-small' | 'mnist-large');
    const setups = VARIANTS.map((steps) => {
      const m = model(name, steps);
      const optimizer = createOptimizer({ kind: 'adam' });
      const { x, y } = randomBatch(inputName, 128);
      return { steps, m, optimizer, x, y, step: stepFn(m, optimizer, x, y, lossFor(inputName)), count: 0 };
    });
    const wall: number[][] = VARIANTS.map(() => []);
    const cpu: number[][] = VARIANTS.map(() => []);
    // one warm-up step each (kernel compilation, first allocations)
    for (const s of setups) {
      const cost = s.step();
      await cost.data();
      await s.m.afterStep?.(++s.count);
      cost.dispose();
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, s] of setups.entries()) {
        const c0 = cpuMs();
        const t0 = performance.now();
        for (let k = 0; k < STEPS; k++) {
          const cost = s.step();
          await cost.data();
          await s.m.afterStep?.(++s.count);
          cost.dispose();
        }
        await s.m.trainableVariables[0].data();
        wall[i].push((performance.now() - t0) / STEPS);
        cpu[i].push((cpuMs() - c0) / STEPS);
      }
    }
    const row: Record<string, unknown> = {};
    for (const [i, s] of setups.entries()) {
      row[`steps${s.steps}`] = {
        medianMsPerStep: round(median(wall[i])),
        cpuMedianMsPerStep: round(median(cpu[i])),
        samplesMs: wall[i].map((v) => round(v)),
      };
    }
    row.speedup1vs2 = round(median(wall[0].map((t, r) => t / wall[1][r])));
    row.cpuSpeedup1vs2 = round(median(cpu[0].map((t, r) => t / cpu[1][r])));
    out[name] = row;
    for (const s of setups) {
      s.optimizer.dispose();
      s.m.dispose();
      tf.dispose([s.x, s.y]);
    }
    console.log(name, JSON.stringify(row));
  }
  if (DRIFT_STEPS > 0) {
    const drift: Record<string, unknown> = { steps: DRIFT_STEPS };
    for (const steps of VARIANTS) {
      drift[`steps${steps}`] = await driftOnMnist(steps, DRIFT_STEPS);
      console.log(`drift, ${steps} step(s)`, JSON.stringify(drift[`steps${steps}`]));
    }
    out.fc3DriftOnMnist = drift;
  }
  out.loadavgEnd = loadavg().map((l) => round(l));
  writeBenchResult('retraction-steps', out);
}, 3_600_000);
