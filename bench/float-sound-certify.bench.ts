import { readFileSync } from 'node:fs';
import { type BackendName, prepareBackend } from '@lipschitz/backends';
import { mnist } from '@lipschitz/datasets';
import { writeBenchResult } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { test } from 'vitest';
import type { ExportedModel } from '../packages/core/src/index';
// The root package does not depend on @lipschitz/certify, so import its sources.
import { certifyExportedModel } from '../packages/certify/src/index';

// What the float-sound certificate costs on a trained MNIST model: certified accuracy and time of the
// default rule ('rigorous': margin − √2·(e₀ + E(ε)) > √2·ε·L, E the proven float32 error bound over the ball,
// the margin from the exact logits computed in float64 on the host, e₀ their proven error)
// against the old rule ('assume-relative-1e-5': margin > √2·ε·L·(1 + 1e-5)^D), on the same model, the
// same test images and the same backend, alternating the two for the timings.
// Needs an exported model: FLOAT_SOUND_MODEL=path/to/model.json (robustness `export --run DIR --out FILE`);
// optional FLOAT_SOUND_LIMIT (test images, default 10000), FLOAT_SOUND_BACKEND (default wasm).
const env = (name: string): string | undefined => process.env[name];
const path = env('FLOAT_SOUND_MODEL');

test.runIf(path !== undefined)('float-sound certification: certified accuracy and time, rigorous vs the old rule, MNIST test set', async () => {
  const backend = (env('FLOAT_SOUND_BACKEND') ?? 'wasm') as BackendName;
  await prepareBackend(backend);
  const exported = JSON.parse(readFileSync(path as string, 'utf8')) as ExportedModel;
  const limit = Number(env('FLOAT_SOUND_LIMIT') ?? 10000);
  const { test: set } = await mnist({ testLimit: limit });
  const n = Math.min(limit, set.count);
  const images = tf.tensor4d(set.images.subarray(0, n * 784), [n, 28, 28, 1]);
  const labels = tf.tensor1d(set.labels.subarray(0, n), 'int32');
  const epsilons = [1.58, 0.3];
  const times: Record<string, number[]> = { rigorous: [], 'assume-relative-1e-5': [] };
  const reports: Record<string, Awaited<ReturnType<typeof certifyExportedModel>>> = {};
  for (let round = 0; round < 3; round++) {
    for (const floatErrorModel of ['assume-relative-1e-5', 'rigorous'] as const) {
      const started = performance.now();
      reports[floatErrorModel] = await certifyExportedModel(exported, images, labels, { epsilons, batchSize: 100, floatErrorModel });
      times[floatErrorModel].push(performance.now() - started);
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const rigorous = reports.rigorous;
  const old = reports['assume-relative-1e-5'];
  const error = rigorous.floatError;
  if (!error) throw new Error('the rigorous report has no floatError');
  const constants = Array.from(error.constant).sort((a, b) => a - b);
  const centerError = error.centerError ?? error.constant;
  // examples given the host float64 logits (certifyExportedModel: where they can decide a certificate at `epsilons`)
  const hostCenters = Array.from(centerError).filter((c, i) => c < error.constant[i]);
  const centers = [...hostCenters].sort((a, b) => a - b);
  const lost = Array.from(rigorous.examples.radii).filter((r, i) => old.examples.radii[i] > 1.58 && !(r > 1.58)).length;
  const file = writeBenchResult('float-sound-certify', {
    model: path,
    metadata: exported.metadata ?? null,
    images: n,
    clean: { rigorous: rigorous.clean, old: old.clean },
    certified: { rigorous: rigorous.certified, old: old.certified },
    certifiedDropPoints: Object.fromEntries(epsilons.map((e) => [String(e), 100 * (old.certified[String(e)] - rigorous.certified[String(e)])])),
    examplesLostAt158: lost,
    lipschitz: { rigorous: rigorous.lipschitzUpperBound, old: old.lipschitzUpperBound },
    floatError: {
      perRadius: error.perRadius,
      constantMedian: constants[Math.floor(n / 2)],
      constantMax: constants[n - 1],
      hostCenterExamples: hostCenters.length,
      hostCenterErrorMax: centers[centers.length - 1] ?? null,
      atEpsilon158Median: constants[Math.floor(n / 2)] + error.perRadius * 1.58,
      // with the host logits (e₀ ≈ 0): √2·(e₀ + E(1.58)); before (float32 logits): √2·(E(0) + E(1.58))
      thresholdAddedAt158Median: Math.SQRT2 * (constants[Math.floor(n / 2)] + error.perRadius * 1.58),
      thresholdOldAt158: Math.SQRT2 * 1.58 * old.lipschitzUpperBound,
    },
    medianMs: { rigorous: median(times.rigorous), old: median(times['assume-relative-1e-5']) },
    ratioRigorousToOld: median(times.rigorous) / median(times['assume-relative-1e-5']),
    rounds: 3,
  });
  console.log(`wrote ${file}`);
  tf.dispose([images, labels]);
});
