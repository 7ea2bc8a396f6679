// The cost of the `projected` retraction's Newton–Schulz step count (`retractionSteps`, `robustness train
// --retraction-steps`): one training step (batch 128: forward + backward + Adam + afterStep, loss read back) of
// FC-3 (Table 2: Björck dense 784→1024→1024→1024→10), MNIST-Large and MNIST-Small with the default 2 steps and with 1,
// in ALTERNATING rounds so that the load of a shared machine hits both alike; ratios are medians of per-round ratios.
// CPU time (user + system of this process; wasm runs one thread) is reported beside wall time: on a loaded machine it
// is far steadier. Also reported per variant: the largest drift off the scaled manifold left after the last step,
// max over the orthogonal parameters of ‖WᵀW/c² − I‖_F/√n (what the next step's retraction starts from).
// Knobs: PERF_REPEATS (rounds, default 5), PERF_STEPS (steps per round, default 3), PERF_MODELS (comma list of
// fc3, mnist-large, mnist-small; default all). Writes bench/results/retraction-steps.json.
import { loadavg } from 'node:os';
import { prepareBackend } from '@lipschitz/backends';
import { fc3, type Sequential } from '@lipschitz/layers';
import { newtonSchulzRetraction } from '@lipschitz/orthogonalize';
import { writeBenchResult } from '@lipschitz/test-utils';
import { createOptimizer } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { buildModel, knob, listKnob, lossFor, randomBatch, round, stepFn } from './perf-common';

const ROUNDS = knob('PERF_REPEATS', 5);
const STEPS = knob('PERF_STEPS', 3);
const MODELS = listKnob('PERF_MODELS') ?? ['fc3', 'mnist-large', 'mnist-small'];
const VARIANTS = [2, 1] as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function model(name: string, retractionSteps: number): Sequential {
  if (name === 'fc3') return fc3({ conv: 'bcop', inputShape: [28, 28, 1], seed: 0, orthogonalization: 'projected', retractionSteps });
  return buildModel(name as 'mnist-small' | 'mnist-large', 'bcop', { orthogonalization: 'projected', retractionSteps });
}

/** The largest drift off the scaled manifold among the model's orthogonal parameters (matrices: rank ≥ 2, not biases). */
async function maxDrift(m: Sequential): Promise<number> {
  let worst = 0;
  for (const v of m.trainableVariables) {
    if (v.rank < 2) continue;
    const { value, drift } = newtonSchulzRetraction(v, { steps: 1 });
    worst = Math.max(worst, (await drift.data())[0]);
    tf.dispose([value, drift]);
  }
  return worst;
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
        maxDriftAfterLastStep: Number((await maxDrift(s.m)).toPrecision(3)),
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
  out.loadavgEnd = loadavg().map((l) => round(l));
  writeBenchResult('retraction-steps', out);
}, 3_600_000);
