// The page's logic, free of DOM code: load the MNIST subsets, certify an exported model, train in the
// browser. main.ts wires it to the page.
import { type CertifyReport, certifyExportedModel, multiMarginLoss } from '@lipschitz/certify';
import type { ExportedModel } from '@lipschitz/core';
import { type ImageSet, parseIdxImages, parseIdxLabels } from '@lipschitz/datasets';
import { type Sequential, bcopConv2d, bjorckDense, exportModel, flatten, maxMin, sequential, smallConvNet } from '@lipschitz/layers';
import { type TrainProgressEvent, memoryRunStore, train } from '@lipschitz/train';
import * as tf from '@tensorflow/tfjs-core';

/** The paper's certified ℓ2 radii on MNIST (reference-bcop.md §7), keyed as `robustness certify` keys them. */
export const MNIST_EPSILONS = [
  { text: '1.58', value: 1.58 },
  { text: '0.3', value: 0.3 },
] as const;

/** MNIST input shape (NHWC without the batch axis). */
export const MNIST_SHAPE: [number, number, number] = [28, 28, 1];

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}. Build the page with \`pnpm --filter @lipschitz/robustness-app build:web\`.`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Fetches an MNIST subset written by scripts/build-web.mjs (uncompressed IDX images and labels) and
 * parses it with `parseIdxImages`/`parseIdxLabels`: pixels `v / 255` in [0, 1], exactly what the Node
 * CLI's `mnist()` loader gives, so both certify the same inputs.
 *
 * @throws Error when a file cannot be fetched; `LipschitzError` `CORRUPT_DATA` on a malformed file.
 * @example
 * ```ts
 * const test = await fetchMnistSubset('data/mnist-test-images.idx', 'data/mnist-test-labels.idx', 'mnist-test');
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits" (IDX format).
 */
export async function fetchMnistSubset(imagesUrl: string, labelsUrl: string, name: string): Promise<ImageSet> {
  const [imageBytes, labelBytes] = await Promise.all([fetchBytes(imagesUrl), fetchBytes(labelsUrl)]);
  const { images, count, height, width } = parseIdxImages(imageBytes, imagesUrl);
  const labels = parseIdxLabels(labelBytes, labelsUrl, 10);
  if (labels.length !== count) throw new Error(`${imagesUrl} has ${count} images but ${labelsUrl} has ${labels.length} labels.`);
  return { images, labels, count, height, width, channels: 1, numClasses: 10, name };
}

/** What {@link certifyExported} returns: the `certify.json` numbers plus the per-example certificates. */
export interface PageCertification {
  /** Number of certified test images (the first `count` of the set). */
  count: number;
  /** Clean accuracy in [0, 1]. */
  clean: number;
  /** Certified accuracy per ε, keyed like `robustness certify` (`"1.58"`, `"0.3"`). */
  certified: Record<string, number>;
  /** The sound ℓ2 bound L of the exact network recomputed from the weights (`lipschitzUpperBound`: float64 norms × (1 + 1e-12) each), not the file's. */
  lipschitzUpperBound: number;
  /** `relu(z_y − max_{i≠y} z_i)` per image. */
  margins: number[];
  /** Certified radius per image: `(margin − 2√2·a)/(√2·L + √2·b)` with E(ε) = a + b·ε the float32 error bound. */
  radii: number[];
  predictions: number[];
  labels: number[];
  milliseconds: number;
}

/**
 * Certifies the first `count` images of `set` with an exported `lipschitz-model/1` network by calling
 * `certifyExportedModel` of @lipschitz/certify — the very function `robustness certify --model` and
 * every other reader use: the one validator of `@lipschitz/model-format` (so the page refuses a file
 * exactly as the CLI does, with the same message), the recomputed sound bound L (the file's own is not
 * trusted), the float32 forward on the active backend in batches, and the one certificate rule, float-soundly
 * (the default `floatErrorModel: 'rigorous'`): with E(ε) = a + b·ε the proven float32 error bound
 * (`float32ErrorBound`), L the exact network's bound and the margin that of the exact logits at the image
 * (float64 on the host where they can decide a certificate, error e₀; elsewhere the float32 logits, e₀ = E(0)),
 * an image is certified at ε iff it is correct and `margin > (√2·L·ε + √2·(e₀ + E(ε)))(1 + 1e-12)`: the exact
 * network and its float32 evaluation keep the class on the whole ball.
 *
 * Ownership: borrows `exported` and `set`; every tensor it creates is disposed before it returns.
 *
 * @throws LipschitzError `CORRUPT_DATA`/`LIMIT_EXCEEDED` for an invalid file, `SHAPE_MISMATCH` when the
 *   model does not take `[28, 28, 1]` images, `UNSUPPORTED_CONFIGURATION` for layers that cannot be bounded.
 * @example
 * ```ts
 * const result = await certifyExported(JSON.parse(text), testSet, 100);
 * result.certified['1.58'];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); Tsuzuku et al., NeurIPS 2018 (the √2 factor).
 */
export async function certifyExported(exported: ExportedModel, set: ImageSet, count: number, batchSize = 100): Promise<PageCertification> {
  const started = performance.now();
  const n = Math.min(count, set.count);
  const pixels = set.height * set.width * set.channels;
  const images = tf.tensor4d(set.images.subarray(0, n * pixels), [n, set.height, set.width, set.channels]);
  const labels = tf.tensor1d(set.labels.subarray(0, n), 'int32');
  let report: CertifyReport;
  try {
    report = await certifyExportedModel(exported, images, labels, { epsilons: MNIST_EPSILONS.map((e) => e.value), batchSize });
  } finally {
    tf.dispose([images, labels]);
  }
  const certified: Record<string, number> = {};
  for (const e of MNIST_EPSILONS) certified[e.text] = report.certified[String(e.value)];
  return {
    count: n,
    clean: report.clean,
    certified,
    lipschitzUpperBound: report.lipschitzUpperBound,
    margins: Array.from(report.examples.margins),
    radii: Array.from(report.examples.radii),
    predictions: Array.from(report.examples.predictions),
    labels: Array.from(set.labels.subarray(0, n)),
    milliseconds: performance.now() - started,
  };
}

/** The networks the page can train: the paper's BCOP "Small", or a tiny BCOP network for slow devices. */
export const BROWSER_NETWORKS = ['small', 'tiny'] as const;
export type BrowserNetwork = (typeof BROWSER_NETWORKS)[number];

/**
 * The network {@link trainInBrowser} trains. `small`: the paper's BCOP "Small" (`smallConvNet`, MaxMin,
 * 171,014 parameters). `tiny`: BCOP 4×4 stride 2, 1→4 channels, MaxMin, Björck dense 784→128, MaxMin,
 * Björck dense 128→10 (about 102,000 parameters): one conv instead of two and far fewer GPU kernels per step,
 * for emulated or slow GPUs. Both use the layers' default orthogonalization (`'projected'`: a Newton–Schulz
 * retraction after every step, a rescaling forward pass) and are 1-Lipschitz by construction.
 *
 * Ownership: the caller owns the returned model.
 */
export function browserNetwork(network: BrowserNetwork, seed: number): Sequential {
  if (network === 'small') return smallConvNet({ conv: 'bcop', activation: 'maxmin', inputShape: MNIST_SHAPE, seed });
  const [h, w] = MNIST_SHAPE;
  const layers = [
    bcopConv2d({ inChannels: 1, outChannels: 4, kernelSize: 4, stride: 2, inputSize: [h, w], seed }),
    maxMin(),
    flatten(),
    bjorckDense({ inputs: (h / 2) * (w / 2) * 4, outputs: 128, seed: seed + 1000 }),
    maxMin(),
    bjorckDense({ inputs: 128, outputs: 10, seed: seed + 2000 }),
  ];
  return sequential(layers, { name: 'tiny' });
}

/** Options of {@link trainInBrowser}. */
export interface BrowserTrainOptions {
  /** Which network (default `small`, the paper's). */
  network?: BrowserNetwork;
  /** Train on the first N images of the set. */
  images: number;
  batchSize: number;
  epochs: number;
  /** Adam learning rate (default 1e-3, the paper's). */
  learningRate?: number;
  /** Seed of the initial weights and the shuffles (default 0). */
  seed?: number;
  onStep?: (step: number, totalSteps: number, loss: number | undefined) => void;
  signal?: AbortSignal;
}

/** What {@link trainInBrowser} returns. */
export interface BrowserTrainResult {
  steps: number;
  /** The loss of every step, in order. */
  losses: number[];
  /** The trained network as a `lipschitz-model/1` object (certify it with {@link certifyExported}). */
  exported: ExportedModel;
  milliseconds: number;
}

/**
 * Trains the paper's BCOP "Small" network (`smallConvNet`, MaxMin; or the tiny one, {@link browserNetwork}) on the first `images` images with
 * `train()` of @lipschitz/train and an in-memory run store: Adam, the reference's hinge loss with margin
 * √2·1.5 (`multiMarginLoss`), the loss read back every step for the progress callback. Returns the
 * trained network exported as `lipschitz-model/1`.
 *
 * Ownership: builds and disposes its own model; `set` is borrowed.
 *
 * @throws LipschitzError from `train` (`NUMERICAL_ERROR` on a NaN loss, `INVALID_ARGUMENT` on bad options).
 * @example
 * ```ts
 * const { losses, exported } = await trainInBrowser(trainSet, { images: 256, batchSize: 32, epochs: 4 });
 * ```
 * @see Li et al., NeurIPS 2019, §5 and reference-bcop.md §8 (the training protocol).
 */
export async function trainInBrowser(set: ImageSet, options: BrowserTrainOptions): Promise<BrowserTrainResult> {
  const started = performance.now();
  const seed = options.seed ?? 0;
  const network = options.network ?? 'small';
  const model = browserNetwork(network, seed);
  const losses: number[] = [];
  try {
    const result = await train({
      model,
      trainSet: set,
      loss: (logits: tf.Tensor, labels: tf.Tensor) => multiMarginLoss(logits, labels, { epsilon: 1.5 }),
      optimizer: { kind: 'adam', learningRate: options.learningRate ?? 1e-3 },
      epochs: options.epochs,
      batchSize: options.batchSize,
      trainLimit: options.images,
      seed,
      store: memoryRunStore(),
      lossEvery: 1,
      signal: options.signal,
      onProgress: (event: TrainProgressEvent) => {
        if (event.type !== 'step') return;
        if (event.loss !== undefined) losses[event.step - 1] = event.loss;
        options.onStep?.(event.step, event.totalSteps, event.loss);
      },
    });
    model.freeze();
    const exported = await exportModel(model, { inputShape: MNIST_SHAPE, range: [0, 1], metadata: { model: network, conv: 'bcop', trainedIn: 'browser', steps: result.steps } });
    return { steps: result.steps, losses, exported, milliseconds: performance.now() - started };
  } finally {
    model.dispose();
  }
}
