// The boundary attack's candidate generation (`boundaryCandidates`, @lipschitz/certify), the current form — one
// iteration's `x0 − perturbed` and its norm computed once and shared by its 25 candidates, fused loops, scratch
// buffers reused — against the straightforward form it replaced (`packages/certify/test/boundary-candidate-
// straightforward.ts`: one fresh array and one loop per intermediate, the shared part recomputed per candidate),
// in ALTERNATING rounds so that the load of a shared machine hits both alike. Both must give the same bits: the
// bench stops if they do not. Also timed: the 25·d seeded normal draws alone (which both forms make, in the same
// order), the part that no rewrite keeping the random stream can remove.
// Then the whole attack: `boundaryAttack` on the zoo's MNIST-Small model (`mnist-small-bcop-cosine`) for the
// first BOUNDARY_IMAGES test images at BOUNDARY_ITERATIONS iterations, its wall time split into the model's
// forward passes (`predict`, timed around each call: wasm runs ops synchronously) and everything else
// (candidates, normals, the driver's bookkeeping). The old form cannot be swapped into the attack, so the
// whole-attack gain is not measured here; the split bounds it.
// Knobs: BOUNDARY_ROUNDS (default 9), BOUNDARY_ITERS_PER_ROUND (iterations of 25 candidates per round, default 400),
// BOUNDARY_IMAGES (default 10), BOUNDARY_SKIP_ATTACK=1 (only the candidates), BOUNDARY_ITERATIONS (default 300).
// Writes bench/results/boundary-candidates.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { prepareBackend } from '@lipschitz/backends';
import { SeededRandom } from '@lipschitz/core';
import { mnist } from '@lipschitz/datasets';
import { loadExportedModel } from '@lipschitz/model-format';
import { writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import { boundaryAttack, boundaryCandidates } from '../packages/certify/src/boundary-attack';
import { candidateBits, straightforwardCandidates } from '../packages/certify/test/boundary-candidate-straightforward';
import { knob, median, round } from './perf-common';

const ROUNDS = knob('BOUNDARY_ROUNDS', 9);
const ITERS = knob('BOUNDARY_ITERS_PER_ROUND', 400);
const IMAGES = knob('BOUNDARY_IMAGES', 10);
const ITERATIONS = knob('BOUNDARY_ITERATIONS', 300);
const WHOLE_ATTACK = knob('BOUNDARY_SKIP_ATTACK', 2) !== 1;
const CANDIDATES = 25; // foolbox 2's max_directions, boundaryAttack's default

/** An image in [0, 1] and a misclassified point at relative distance `spread` (as after a blended-noise start). */
function scene(d: number, spread: number): { x0: Float64Array; perturbed: Float64Array } {
  const r = new SeededRandom(d);
  const x0 = new Float64Array(d);
  const perturbed = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    x0[i] = Math.fround(r.uniform());
    perturbed[i] = Math.min(1, Math.max(0, x0[i] + spread * r.normal()));
  }
  return { x0, perturbed };
}

function sameBits(a: [Float64Array, Float64Array][], b: [Float64Array, Float64Array][]): boolean {
  const x = candidateBits(a);
  const y = candidateBits(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

type Generate = typeof boundaryCandidates;

/** Milliseconds per iteration (25 candidates) of `generate`, over ITERS iterations. */
function perIteration(generate: Generate, x0: Float64Array, perturbed: Float64Array, seed: number): number {
  const ctx = { original: x0, range: [0, 1] as [number, number], random: new SeededRandom(seed) };
  const start = performance.now();
  for (let it = 0; it < ITERS; it++) generate(ctx, perturbed, 1e-2, 1e-2, CANDIDATES);
  return (performance.now() - start) / ITERS;
}

function normalsPerIteration(d: number, seed: number): number {
  const random = new SeededRandom(seed);
  let sink = 0;
  const start = performance.now();
  for (let it = 0; it < ITERS; it++) for (let k = 0; k < CANDIDATES * d; k++) sink += random.normal();
  const ms = (performance.now() - start) / ITERS;
  if (Number.isNaN(sink)) throw new Error('unreachable'); // reads the sum, so the draws cannot be optimised away
  return ms;
}

test('boundary attack: candidate generation, current vs straightforward form', async () => {
  await prepareBackend('wasm');
  const started = performance.now();
  const out: Record<string, unknown> = { rounds: ROUNDS, iterationsPerRound: ITERS, candidatesPerIteration: CANDIDATES, loadavgStart: loadavg() };
  const save = () => {
    out.totalBenchMs = round(performance.now() - started);
    out.loadavgNow = loadavg();
    writeBenchResult('boundary-candidates', out);
  };

  for (const [name, d] of [['mnist', 784], ['cifar10', 3072]] as const) {
    const { x0, perturbed } = scene(d, 0.3);
    const check = (seed: number) => {
      const a = boundaryCandidates({ original: x0, range: [0, 1], random: new SeededRandom(seed) }, perturbed, 1e-2, 1e-2, CANDIDATES);
      const b = straightforwardCandidates({ original: x0, range: [0, 1], random: new SeededRandom(seed) }, perturbed, 1e-2, 1e-2, CANDIDATES);
      if (!sameBits(a, b)) throw new Error(`boundaryCandidates differs from the straightforward form (d = ${d}, seed ${seed})`);
    };
    check(0);
    check(1);
    perIteration(boundaryCandidates, x0, perturbed, 99); // warm-up of both forms
    perIteration(straightforwardCandidates, x0, perturbed, 99);
    const current: number[] = [];
    const straightforward: number[] = [];
    const normals: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which form goes first, so neither always runs right after the other's garbage.
      const [first, second] = r % 2 === 0 ? [boundaryCandidates, straightforwardCandidates] : [straightforwardCandidates, boundaryCandidates];
      const t1 = perIteration(first, x0, perturbed, r);
      const t2 = perIteration(second, x0, perturbed, r);
      const [cur, old] = first === boundaryCandidates ? [t1, t2] : [t2, t1];
      current.push(cur);
      straightforward.push(old);
      ratios.push(old / cur);
      normals.push(normalsPerIteration(d, r));
    }
    out[name] = {
      d,
      bitIdentical: true,
      currentMsPerIteration: round(median(current), 3),
      straightforwardMsPerIteration: round(median(straightforward), 3),
      normalsMsPerIteration: round(median(normals), 3),
      speedup: round(median(ratios), 3),
      samples: { current: current.map((v) => round(v, 3)), straightforward: straightforward.map((v) => round(v, 3)), normals: normals.map((v) => round(v, 3)) },
    };
    save();
  }

  if (WHOLE_ATTACK) {
    const file = join(process.cwd(), 'apps', 'robustness', 'models', 'mnist-small-bcop-cosine.json');
    const model = loadExportedModel(JSON.parse(readFileSync(file, 'utf8')));
    const { test: testSet } = await mnist({ testLimit: IMAGES });
    const images = tf.tensor4d(testSet.images.subarray(0, IMAGES * 784), [IMAGES, 28, 28, 1]);
    const labels = tf.tensor1d(testSet.labels.subarray(0, IMAGES), 'int32');
    let modelMs = 0;
    let calls = 0;
    const predict = (x: tf.Tensor) => {
      const t = performance.now();
      const y = model.predict(x);
      modelMs += performance.now() - t;
      calls++;
      return y;
    };
    const t = performance.now();
    const result = await boundaryAttack(predict, images, labels, { epsilon: 1.58, iterations: ITERATIONS });
    const wallMs = performance.now() - t;
    out.wholeAttack = {
      model: 'zoo:mnist-small-bcop-cosine',
      images: IMAGES,
      iterations: ITERATIONS,
      wallMs: round(wallMs),
      modelForwardMs: round(modelMs),
      outsideModelMs: round(wallMs - modelMs),
      predictCalls: calls,
      queriesTotal: result.queries.reduce((a, b) => a + b, 0),
      robustAccuracy: result.robustAccuracy,
    };
    images.dispose();
    labels.dispose();
    model.dispose();
    save();
  }
});
