/**
 * What is tested (issue 16, red-team cases as tests): on hostile files crafted from a small seeded
 * model — every class's bias + 2²³ or + 2²⁶, two layers scaled by 2⁷⁰ / 2⁻⁷⁰ (exact network
 * unchanged), inputs far outside `input.range` — (1) the float32 error bound E(ε) covers the actual
 * error |f̃ − f| measured against a float64 host forward, at the images and at points of their
 * balls; (2) a float32-flip search (projected gradient steps on the float32 margin, checking the
 * float32 backend forward and the float64 oracle) finds no point that changes the class of any
 * certified example within its certified radius; (3) images outside `input.range` are refused.
 * The default rule must certify a fair share of the benign model (so the checks are not vacuous).
 * What is not tested: trained BCOP models (bench/ measures the cost there).
 */
import { LipschitzError, type LipschitzModule } from '@lipschitz/core';
import { describeBackends } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { certifyExportedModel, certifyModel } from '../src/certify-model';
import { forwardOf as exportedForward } from './fixtures';
import { float32ErrorBound } from '../src/float-error-bound';
import { argMax, float32FlipSearch, float64Forward, smallDenseNet, uniformImages, withClassBiasOffset, withScaledLayers } from './float-soundness';

const N = 64;
const SHAPE = [4, 4, 1];
const EPSILONS = [0, 0.01, 0.05, 0.2];

function exactLabels(net: ReturnType<typeof smallDenseNet>, values: Float32Array, size: number): tf.Tensor1D {
  return tf.tensor1d(
    Array.from({ length: values.length / size }, (_, i) => argMax(float64Forward(net, values.subarray(i * size, (i + 1) * size)))),
    'int32',
  );
}

const benign = smallDenseNet(3, 32); // logits of a trained MNIST model's size
const hostile = {
  'bias + 2^23': withClassBiasOffset(benign, 2 ** 23),
  'bias + 2^26': withClassBiasOffset(benign, 2 ** 26),
  'layers x 2^70 / 2^-70': withScaledLayers(benign, 1, 3, 70),
  'layers x 2^-70 / 2^70': withScaledLayers(benign, 3, 5, -70),
};

describeBackends('float-sound certificates', () => {
  it('the error bound covers |f̃ − f| (float64 oracle) at the images and inside their balls, on every file', async () => {
    const size = 16;
    const { values, tensor } = uniformImages(N, SHAPE, 11);
    try {
      for (const net of [benign, ...Object.values(hostile)]) {
        const radius = 0.05;
        const report = await float32ErrorBound(net.input.shape, net.layers, tensor);
        // each image and 3 points at distance `radius` in seeded directions, rounded to float32
        const points = new Float32Array(N * 4 * size);
        for (let i = 0; i < N; i++) {
          const x = values.subarray(i * size, (i + 1) * size);
          points.set(x, i * 4 * size);
          for (let k = 1; k < 4; k++) {
            const d = uniformImages(1, SHAPE, 100 * i + k, -1, 1).values;
            const norm = Math.hypot(...d);
            points.set(Float32Array.from(x, (v, j) => v + (radius * 0.999 * d[j]) / norm), (i * 4 + k) * size);
          }
        }
        const forward = exportedForward(net);
        try {
          const z = tf.tidy(() => forward.predict(tf.tensor(points, [N * 4, ...SHAPE])).dataSync());
          const classes = z.length / (N * 4);
          for (let p = 0; p < N * 4; p++) {
            const exact = float64Forward(net, points.subarray(p * size, (p + 1) * size));
            let err = 0;
            for (let j = 0; j < classes; j++) err += (z[p * classes + j] - exact[j]) ** 2;
            const i = Math.floor(p / 4);
            expect(Math.sqrt(err)).toBeLessThanOrEqual(report.error.constant[i] + report.error.perRadius * radius);
          }
        } finally {
          forward.dispose();
        }
      }
    } finally {
      tensor.dispose();
    }
  });

  it('the default rule certifies the benign model, and no certified point of any file can be flipped', async () => {
    const size = 16;
    const { values, tensor } = uniformImages(N, SHAPE, 5);
    try {
      for (const [name, net] of [['benign', benign] as const, ...Object.entries(hostile)]) {
        const labels = exactLabels(benign, values, size); // every file computes the same exact classes
        try {
          const report = await certifyExportedModel(net, tensor, labels, { epsilons: EPSILONS });
          if (name === 'benign') expect(report.certified['0.01']).toBeGreaterThan(0.3);
          const flips = float32FlipSearch(net, values, labels.dataSync(), report.examples.radii);
          expect({ name, flipped: flips.flatMap((d, i) => (d === null ? [] : [{ example: i, distance: d, radius: report.examples.radii[i] }])) }).toEqual({ name, flipped: [] });
        } finally {
          labels.dispose();
        }
      }
    } finally {
      tensor.dispose();
    }
  });

  it('refuses images outside input.range; a module (no range) certifies only what holds at their actual size', async () => {
    const size = 16;
    const { values, tensor } = uniformImages(N, SHAPE, 7, 1e7, 1e7 + 1);
    const labels = exactLabels(benign, values, size);
    const module: LipschitzModule = {
      name: 'benign',
      apply: (x) => {
        const f = exportedForward(benign);
        const z = f.predict(x);
        f.dispose();
        return z;
      },
      trainableVariables: [],
      stateVariables: [],
      freeze: () => {},
      unfreeze: () => {},
      frozen: true,
      lipschitzUpperBound: async () => 0,
      exportLayers: async () => benign.layers,
      outputShape: () => [4],
      dispose: () => {},
    };
    try {
      const refused = certifyExportedModel(benign, tensor, labels, { epsilons: EPSILONS });
      await expect(refused).rejects.toThrow(LipschitzError);
      await expect(certifyExportedModel(benign, tensor, labels, { epsilons: EPSILONS })).rejects.toThrow(/^certifyExportedModel: images span \[.*\] but the model's input.range is \[0, 1\]/);
      const report = await certifyModel(module, tensor, labels, { epsilons: EPSILONS, inputShape: SHAPE });
      expect(float32FlipSearch(benign, values, labels.dataSync(), report.examples.radii).filter((d) => d !== null)).toEqual([]);
    } finally {
      tensor.dispose();
      labels.dispose();
    }
  });
});
