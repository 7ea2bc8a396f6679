import { join } from 'node:path';
import { writeJsonAtomic } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { certifyModel, empiricalLipschitzLowerBound } from '@lipschitz/certify';
import * as tf from '@tensorflow/tfjs-core';
import { assertNewEvaluation, certifyFileName } from '../evaluations';
import { inputShapeOf } from '../experiment';
import { withRunOnTestSet } from '../run';
import { convSpectra } from '../spectra';

export interface CertifyCommandOptions {
  run: string;
  epsilons: { text: string; value: number }[];
  testLimit?: number;
  backend: BackendName;
  /** Replace an evaluation with the same settings (default: refuse). */
  force?: boolean;
  quiet?: boolean;
}

/** The file `robustness certify` writes (design.md contract, plus details for the report). */
export interface CertifyFile {
  clean: number;
  certified: Record<string, number>;
  lipschitzUpperBound: number;
  layers: unknown[];
  /** Number of test images certified: the first `count` of the test set. */
  count: number;
  /** The radii as given (`--eps`), in order. */
  epsilons?: string[];
  checkpoint: string;
  exactProduct: number;
  safetyFactor: number;
  /** How the float32 evaluation is accounted for: `'rigorous'` (the default: a proven error bound is subtracted from each margin). */
  floatErrorModel?: string;
  /** Certified accuracy on a grid of ε (for the plot). */
  curve: { epsilon: number; certified: number }[];
  /** Empirical lower bound on the Lipschitz constant (gradient norms and pairs) on up to 200 test images. */
  empiricalLowerBound: { lipschitzLowerBound: number; jacobianNormLowerBound: number; pairRatioLowerBound: number; images: number };
  /** Exact singular values of each conv layer of the certified model. */
  spectra: ReturnType<typeof convSpectra>;
  seconds: number;
}

/**
 * `robustness certify --run DIR`: certified accuracy of the best checkpoint at each ε (an example counts
 * only if correct and its margin exceeds √2·ε·L + √2·(E(0) + E(ε)), L the sound bound of the exact
 * network and E the proven float32 error bound of `@lipschitz/certify`), written to DIR/certify.json for
 * the run's standard settings, else to a file named after the settings (`certifyFileName`); an evaluation
 * with the same settings is replaced only with `force`.
 */
export async function certifyCommand({ run, epsilons, testLimit, backend, force = false, quiet = false }: CertifyCommandOptions): Promise<CertifyFile> {
  const started = performance.now();
  return withRunOnTestSet(run, backend, testLimit, async (opened, { images, labels, count, runCount }) => {
    const { model, config } = opened;
    const path = join(run, certifyFileName(config.dataset, runCount, { epsilons: epsilons.map((e) => e.text), count }));
    assertNewEvaluation('certify', path, force);
    const inputShape = inputShapeOf(config.dataset);
    const report = await certifyModel(model, images, labels, { epsilons: epsilons.map((e) => e.value), inputShape, batchSize: 500 });
    const certified: Record<string, number> = {};
    for (const e of epsilons) certified[e.text] = report.certified[String(e.value)];
    const maxEps = config.dataset === 'cifar10' ? 0.5 : 3;
    const curve = Array.from({ length: 61 }, (_, i) => {
      const epsilon = (maxEps * i) / 60;
      let n = 0;
      for (let k = 0; k < report.examples.count; k++) if (report.examples.correct[k] && report.examples.radii[k] > epsilon) n++;
      return { epsilon, certified: n / report.examples.count };
    });
    const sampleCount = Math.min(200, count);
    const sample = tf.slice(images, 0, sampleCount) as tf.Tensor4D;
    let empirical: Awaited<ReturnType<typeof empiricalLipschitzLowerBound>>;
    try {
      empirical = await empiricalLipschitzLowerBound((x) => model.apply(x), sample, { seed: 0 });
    } finally {
      sample.dispose();
    }
    const spectra = convSpectra(await model.exportLayers(inputShape), inputShape);
    const file: CertifyFile = {
      clean: report.clean,
      certified,
      lipschitzUpperBound: report.lipschitzUpperBound,
      layers: report.layers,
      count,
      epsilons: epsilons.map((e) => e.text),
      checkpoint: opened.checkpoint,
      exactProduct: report.exactProduct,
      safetyFactor: report.safetyFactor,
      floatErrorModel: report.floatErrorModel,
      curve,
      empiricalLowerBound: { ...empirical, images: sampleCount },
      spectra,
      seconds: (performance.now() - started) / 1000,
    };
    await writeJsonAtomic(path, file);
    if (!quiet) {
      const parts = epsilons.map((e) => `certified@${e.text} ${(100 * certified[e.text]).toFixed(2)}%`);
      process.stdout.write(
        `clean ${(100 * report.clean).toFixed(2)}%, ${parts.join(', ')}, L ≤ ${report.lipschitzUpperBound.toPrecision(8)} (${count} test images) → ${path}\n`,
      );
    }
    return file;
  });
}
