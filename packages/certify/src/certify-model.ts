import { type ExportedModel, type LipschitzModule, LipschitzError, MODEL_FORMAT, assertPositiveInteger } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { type CertifyResult, certifyValues, checkEpsilons } from './certify';
import { exportedForward } from './exported-forward';
import { checkImagesAndLabels, checkLabelValues } from './inputs';
import { modelLipschitzUpperBound } from './model-lipschitz-upper-bound';
import { type LayerNormReport, type NetworkBound, networkLipschitzUpperBound } from './network-bound';

/** Options of {@link certifyExportedModel}. */
export interface CertifyExportedModelOptions {
  /** ℓ2 radii ε to report certified accuracy at. */
  epsilons: readonly number[];
  /** Examples per forward pass (default 100). */
  batchSize?: number;
}

/** Options of {@link certifyModel}. */
export interface CertifyModelOptions extends CertifyExportedModelOptions {
  /** Input shape without the batch axis, e.g. `[28, 28, 1]` (conv norms depend on it). */
  inputShape: readonly number[];
}

/**
 * The `certify.json` report (design.md): `clean`, `certified`, `lipschitzUpperBound`, `layers`, plus
 * details a caller may leave out of the JSON file (`examples` holds typed arrays).
 */
export interface CertifyReport {
  /** Clean accuracy, a fraction in [0, 1]. */
  clean: number;
  /** Certified accuracy per ε, keyed `String(ε)`, fractions in [0, 1]. */
  certified: Record<string, number>;
  /** The sound ℓ2 Lipschitz bound the certificates use. */
  lipschitzUpperBound: number;
  /** Per-layer exact norms from {@link networkLipschitzUpperBound}. */
  layers: LayerNormReport[];
  /** Product of the per-layer norms without the float32 slack. */
  exactProduct: number;
  /** The float32 slack factor (see {@link networkLipschitzUpperBound}). */
  safetyFactor: number;
  /** Number of examples. */
  count: number;
  /** Per-example margins, radii, predictions (pass `examples.radii` to the attacks' `certifiedRadii`). */
  examples: CertifyResult;
}

function checkBatchSize(fn: string, batchSize: number | undefined): number {
  const b = batchSize ?? 100;
  assertPositiveInteger(fn, 'batchSize', b);
  return b;
}

function checkInputShape(fn: string, images: tf.Tensor, inputShape: readonly number[]): void {
  const got = images.shape.slice(1);
  if (got.length !== inputShape.length || got.some((d, i) => d !== inputShape[i])) {
    throw new LipschitzError('SHAPE_MISMATCH', `${fn}: images have shape [N, ${got.join(', ')}] but the model takes [N, ${inputShape.join(', ')}].`);
  }
}

/** Runs `predict` batch by batch and gathers the logits on the host. */
async function batchedLogits(fn: string, predict: (x: tf.Tensor) => tf.Tensor, images: tf.Tensor, batchSize: number) {
  const n = images.shape[0];
  let c = -1;
  let values = new Float32Array(0);
  for (let offset = 0; offset < n; offset += batchSize) {
    const size = Math.min(batchSize, n - offset);
    const z = tf.tidy(() => predict(tf.slice(images, offset, size)));
    try {
      if (z.rank !== 2 || z.shape[0] !== size) {
        throw new LipschitzError('SHAPE_MISMATCH', `${fn}: the model must output logits [N, C], got shape [${z.shape.join(', ')}].`);
      }
      if (c < 0) {
        c = z.shape[1] as number;
        values = new Float32Array(n * c);
      }
      values.set((await z.data()) as Float32Array, offset * c);
    } finally {
      z.dispose();
    }
  }
  return { values, c };
}

async function report(
  fn: string,
  predict: (x: tf.Tensor) => tf.Tensor,
  images: tf.Tensor,
  labels: tf.Tensor,
  epsilons: readonly number[],
  batchSize: number,
  bound: NetworkBound,
  lipschitz: number,
): Promise<CertifyReport> {
  const n = images.shape[0];
  const y = await labels.data();
  const { values, c } = await batchedLogits(fn, predict, images, batchSize);
  if (n > 0) checkLabelValues(fn, y, c);
  const examples = certifyValues(fn, values, y, n, Math.max(c, 0), lipschitz, epsilons);
  return {
    clean: examples.clean,
    certified: examples.certifiedAccuracy,
    lipschitzUpperBound: lipschitz,
    layers: bound.layers,
    exactProduct: bound.exactProduct,
    safetyFactor: bound.safetyFactor,
    count: n,
    examples,
  };
}

/**
 * Certifies a `lipschitz-model/1` network on a labelled set: recomputes the sound bound with
 * {@link networkLipschitzUpperBound} (the file's own `lipschitzUpperBound` is not trusted), runs the
 * forward pass batch by batch with plain tfjs ops, and applies {@link certify}: an example is
 * certified at ε iff correct and `margin > √2 · ε · L`.
 *
 * Returns the `certify.json` shape `{ clean, certified: { [ε]: accuracy }, lipschitzUpperBound, layers }`
 * plus `exactProduct`, `safetyFactor`, `count` and per-example `examples`.
 *
 * Ownership: `exported`, `images` (`[N, ...input.shape]`) and `labels` (int32 `[N]`) are borrowed;
 * the weight tensors built for the forward pass are disposed before returning.
 *
 * @throws LipschitzError `CORRUPT_DATA` (not `lipschitz-model/1`), `SHAPE_MISMATCH` (images do not match
 *   `input.shape`, wrong label count), `INVALID_ARGUMENT` (bad ε, batch size or labels), and whatever
 *   {@link networkLipschitzUpperBound} throws.
 * @example
 * ```ts
 * const report = await certifyExportedModel(exported, images, labels, { epsilons: [1.58, 0.3] });
 * report.certified['1.58'];
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7); design.md (`certify.json`).
 */
export async function certifyExportedModel(
  exported: ExportedModel,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyExportedModelOptions,
): Promise<CertifyReport> {
  const fn = 'certifyExportedModel';
  if (exported == null || exported.format !== MODEL_FORMAT) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: exported.format must be "${MODEL_FORMAT}", got ${JSON.stringify(exported?.format)}. Pass the JSON written by exportModel().`);
  }
  checkImagesAndLabels(fn, images, labels);
  const { epsilons, batchSize } = options ?? ({} as CertifyExportedModelOptions);
  checkEpsilons(fn, epsilons);
  const b = checkBatchSize(fn, batchSize);
  const bound = networkLipschitzUpperBound(exported);
  checkInputShape(fn, images, exported.input.shape);
  const forward = exportedForward(exported);
  try {
    return await report(fn, forward.predict, images, labels, epsilons, b, bound, bound.lipschitzUpperBound);
  } finally {
    forward.dispose();
  }
}

/**
 * Certifies a live {@link LipschitzModule} on a labelled set. The model is frozen for the forward
 * pass (and unfrozen afterwards if it was not frozen before). The bound is
 * {@link modelLipschitzUpperBound}: the larger of {@link networkLipschitzUpperBound} on
 * `model.exportLayers(inputShape)` (which also gives the per-layer report) and the module's own
 * `lipschitzUpperBound(inputShape)`; the max of two sound bounds is sound.
 *
 * Ownership: `images` (`[N, ...inputShape]`) and `labels` (int32 `[N]`) are borrowed; the model is
 * not disposed.
 *
 * @throws LipschitzError as {@link certifyExportedModel}.
 * @example
 * ```ts
 * const report = await certifyModel(model, images, labels, { epsilons: [1.58], inputShape: [28, 28, 1] });
 * ```
 * @see Li et al., NeurIPS 2019 (reference-bcop.md §7).
 */
export async function certifyModel(
  model: LipschitzModule,
  images: tf.Tensor,
  labels: tf.Tensor,
  options: CertifyModelOptions,
): Promise<CertifyReport> {
  const fn = 'certifyModel';
  checkImagesAndLabels(fn, images, labels);
  const { epsilons, batchSize, inputShape } = options ?? ({} as CertifyModelOptions);
  checkEpsilons(fn, epsilons);
  const b = checkBatchSize(fn, batchSize);
  if (!Array.isArray(inputShape)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: inputShape must be the input shape without the batch axis, e.g. [28, 28, 1].`);
  }
  checkInputShape(fn, images, inputShape);
  const wasFrozen = model.frozen;
  model.freeze();
  try {
    const bound = await modelLipschitzUpperBound(model, inputShape);
    return await report(fn, (x) => model.apply(x), images, labels, epsilons, b, bound, bound.lipschitzUpperBound);
  } finally {
    if (!wasFrozen) model.unfreeze();
  }
}
