import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_CLASSES, type ImageSet, batches, cifar10, fashionMnist, imageFolder, mnist } from '@lipschitz/datasets';
import { type Batcher, type LearningRateSchedule, compressedExponentialSchedule, cosineSchedule, exponentialSchedule } from '@lipschitz/train';
import { LipschitzError } from '@lipschitz/core';
import { type ActivationType, CONV_TYPES, type ConvType, type ModelOptions, PROJECTED_RETRACTION_STEPS, type Sequential, fc3, largeConvNet, smallConvNet } from '@lipschitz/layers';
import { FAST_POLAR, REFERENCE_BJORCK } from '@lipschitz/orthogonalize';

export const MODELS = ['small', 'large', 'fc3'] as const;
/**
 * The `--conv` choices: every convolution type of `@lipschitz/layers`. `plain` is the unconstrained baseline
 * with the same architecture (plain circular convolutions and plain dense layers); it is certified with its
 * honest bound, the product of the exact layer norms (usually far above 1).
 */
export const CONVS = CONV_TYPES;
export const ACTIVATIONS = ['maxmin', 'relu'] as const;
export const DATASETS = ['mnist', 'fashion-mnist', 'cifar10'] as const;
/** Training-set augmentation: `cifar` is the reference's random crop (4 zero padding) + horizontal flip. */
export const AUGMENTATIONS = ['none', 'cifar'] as const;
export const BACKENDS = ['auto', 'wasm', 'cpu', 'node', 'node-gpu', 'webgpu'] as const;
/**
 * How the orthogonal matrices are computed (`--orthogonalizer`, the layers' `orthogonalization`).
 * `projected` (the default, issue 14): the parameters are kept on the scaled orthogonal manifold by a
 * Newton–Schulz retraction after each optimizer step and the forward pass only rescales them (projected
 * gradient descent on the Stiefel manifold; exported kernels are fully projected); bench/README.md has the
 * equal-time comparison that made it the default. `reference`: the literal reference, Björck-20 with
 * 10-step power scaling differentiated in every forward pass (`REFERENCE_BJORCK`), for exact reproduction.
 * `reference-gram`: the same iterates computed on the Gram matrix for non-square weights (the default before
 * issue 14; runs saved without an `orthogonalizer` field are rebuilt with it). `fast-polar`: a polar-express
 * schedule reaching the same polar factor in fewer steps. `reprojected`: the layers' `reproject` option
 * (7-step re-projection after each step, one Björck step in the forward pass).
 */
export const ORTHOGONALIZERS = ['projected', 'reference', 'reference-gram', 'fast-polar', 'reprojected'] as const;

/**
 * The learning-rate schedules of `--schedule`. `exponential` (the default): the paper's protocol,
 * `lr(e) = lr₀ · 0.96235062639^e` per epoch (`exponentialSchedule`). `compressed`: the paper's 200-epoch decay
 * compressed into the run's epochs N, `lr(e) = lr₀ · 0.96235062639^(e·200/N)` — the same start and end rate
 * (`compressedExponentialSchedule`). `cosine`: cosine annealing over the run's epochs N from lr₀ to the same end rate,
 * `lr(e) = end + (lr₀ − end)·(1 + cos(π·e/N))/2` with `end = lr₀·0.96235062639^200` (`cosineSchedule`). Both are
 * protocol changes, to be stated next to every number they produce ({@link scheduleLabel}).
 */
export const SCHEDULES = ['exponential', 'compressed', 'cosine'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/** The orthogonalizer of a run whose config names none: runs saved before issue 14 used `reference-gram`. */
export const LEGACY_ORTHOGONALIZER = 'reference-gram';

export type ModelName = (typeof MODELS)[number];
export type DatasetName = (typeof DATASETS)[number];

/** Everything that defines a training run; stored in `DIR/config.json` under `experiment`. */
export interface ExperimentConfig {
  model: ModelName;
  conv: (typeof CONVS)[number];
  activation: (typeof ACTIVATIONS)[number];
  dataset: DatasetName;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** ε of the reference's hinge loss (margin √2·ε): 1.5 on MNIST, 0.5 on CIFAR-10. */
  lossEpsilon: number;
  trainLimit?: number;
  testLimit?: number;
  /** Directory of CIFAR-10 / Fashion-MNIST files when not the default. */
  dataDir?: string;
  /**
   * `--orthogonalizer`; new runs always store it. Missing (runs saved before issue 14): `reference-gram`,
   * the default of that time ({@link LEGACY_ORTHOGONALIZER}).
   */
  orthogonalizer?: (typeof ORTHOGONALIZERS)[number];
  /** Training augmentation; default {@link defaultAugment} of the dataset (runs from before this field: none). */
  augment?: (typeof AUGMENTATIONS)[number];
  /** `--time-budget`: stop training after this many seconds of wall-clock time (then evaluate, save, finish). */
  timeBudgetSeconds?: number;
  /**
   * `--retraction-steps`: Newton–Schulz steps of the `projected` retraction after each optimizer step (the layers'
   * `retractionSteps`). Missing: the layers' default, 2.
   */
  retractionSteps?: number;
  /** `--schedule`; new runs always store it. Missing (runs saved before the flag): `exponential`. */
  schedule?: ScheduleName;
  /**
   * With `schedule: 'compressed'` or `'cosine'`: the N the schedule spans (for `compressed`, the N the paper's 200
   * epochs were compressed into) — the run's `--epochs` when it started, kept when a resume asks for more epochs
   * (the compressed decay then continues at the same rate per epoch; the cosine holds its end rate).
   */
  scheduleEpochs?: number;
}

/** What one schedule of {@link SCHEDULES} is, given the N epochs it spans (`scheduleEpochs ?? epochs`). */
interface ScheduleKind {
  build(epochs: number, lr: number): LearningRateSchedule;
  /** Whether it spans the run's first `--epochs` (and so stores them as `scheduleEpochs`). */
  spansEpochs: boolean;
  /** Its name in a few words, for tables. */
  label(epochs: number): string;
  /** The protocol change as the report states it next to the numbers; null for the paper's protocol. */
  protocolChange(epochs: number): string | null;
}

const SCHEDULE_KINDS: Record<ScheduleName, ScheduleKind> = {
  exponential: {
    build: (_, lr) => exponentialSchedule({ initial: lr }),
    spansEpochs: false,
    label: () => 'exponential',
    protocolChange: () => null,
  },
  compressed: {
    build: (epochs, lr) => compressedExponentialSchedule({ epochs, initial: lr }),
    spansEpochs: true,
    label: (epochs) => `compressed 200→${epochs}`,
    protocolChange: (epochs) => `the paper's 200-epoch lr decay compressed into ${epochs}`,
  },
  cosine: {
    build: (epochs, lr) => cosineSchedule({ epochs, initial: lr }),
    spansEpochs: true,
    label: (epochs) => `cosine over ${epochs}`,
    protocolChange: (epochs) => `a cosine lr schedule over ${epochs} epochs instead of the paper's decay`,
  },
};

/** The schedule a config names (missing, or a name this version does not know: `exponential`, as before the flag). */
function scheduleKind(config: Pick<ExperimentConfig, 'schedule'>): ScheduleKind {
  return SCHEDULE_KINDS[config.schedule ?? 'exponential'] ?? SCHEDULE_KINDS.exponential;
}

/**
 * The learning-rate schedule of a run ({@link SCHEDULES}): `exponentialSchedule({ initial: lr })`,
 * `compressedExponentialSchedule({ epochs: scheduleEpochs ?? epochs, initial: lr })` or
 * `cosineSchedule({ epochs: scheduleEpochs ?? epochs, initial: lr })`.
 */
export function scheduleOf(config: Pick<ExperimentConfig, 'schedule' | 'scheduleEpochs' | 'epochs' | 'lr'>): LearningRateSchedule {
  return scheduleKind(config).build(config.scheduleEpochs ?? config.epochs, config.lr);
}

/**
 * A run's schedule in a few words, for tables: `exponential` (the paper's protocol), `compressed 200→N` or
 * `cosine over N` (protocol changes, stated next to the numbers they produced).
 */
export function scheduleLabel(config: Pick<ExperimentConfig, 'schedule' | 'scheduleEpochs' | 'epochs'>): string {
  return scheduleKind(config).label(config.scheduleEpochs ?? config.epochs);
}

/**
 * The protocol change of a run's schedule in a sentence, for the report (e.g. "the paper's 200-epoch lr decay
 * compressed into 40"); null for the paper's own schedule.
 */
export function scheduleProtocolChange(config: Pick<ExperimentConfig, 'schedule' | 'scheduleEpochs' | 'epochs'>): string | null {
  return scheduleKind(config).protocolChange(config.scheduleEpochs ?? config.epochs);
}

/**
 * Settles the schedule of a run that `robustness train` starts or resumes, in place. A new run takes `--schedule`
 * (default `exponential`) and, when compressed or cosine, `scheduleEpochs = epochs`. A resumed run keeps what `stored` (its
 * config.json) records — a run from before the flag used `exponential` — so `--resume` needs no `--schedule`; a
 * `--schedule` that differs is refused.
 * @throws LipschitzError `INVALID_ARGUMENT` naming the schedule the run was trained with.
 */
export function settleSchedule(config: ExperimentConfig, stored: Pick<ExperimentConfig, 'schedule' | 'scheduleEpochs'> | undefined | null): void {
  if (stored === undefined || stored === null) {
    config.schedule ??= 'exponential';
    if (scheduleKind(config).spansEpochs) config.scheduleEpochs = config.epochs;
    else delete config.scheduleEpochs;
    return;
  }
  const used = stored.schedule ?? 'exponential';
  if (config.schedule !== undefined && config.schedule !== used) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `--resume: the run was trained with --schedule ${used}; pass --schedule ${used} (or leave --schedule out) to continue it exactly, or --force to start over with ${config.schedule}.`,
    );
  }
  config.schedule = used;
  if (scheduleKind({ schedule: used }).spansEpochs) config.scheduleEpochs = stored.scheduleEpochs ?? config.epochs;
  else delete config.scheduleEpochs;
}

/**
 * Settles `retractionSteps` of a run that `robustness train` resumes, in place: the run keeps what its config.json
 * records (missing: the layers' default, `PROJECTED_RETRACTION_STEPS`), so `--resume` needs no `--retraction-steps`; a
 * count that differs from it is refused (the parameters would follow another retraction from the resumed epoch on).
 * @throws LipschitzError `INVALID_ARGUMENT` naming the count the run was trained with.
 */
export function settleRetractionSteps(config: ExperimentConfig, stored: Pick<ExperimentConfig, 'retractionSteps'>, requested: boolean): void {
  const used = stored.retractionSteps ?? PROJECTED_RETRACTION_STEPS;
  if (requested && (config.retractionSteps ?? PROJECTED_RETRACTION_STEPS) !== used) {
    throw new LipschitzError(
      'INVALID_ARGUMENT',
      `--resume: the run was trained with --retraction-steps ${used}; leave --retraction-steps out to continue it exactly, or pass --force to start over with ${config.retractionSteps}.`,
    );
  }
  if (stored.retractionSteps === undefined) delete config.retractionSteps;
  else config.retractionSteps = stored.retractionSteps;
}

/** The reference's augmentation of a dataset (reference-bcop.md §8): `cifar` for CIFAR-10, none for MNIST-like sets. */
export function defaultAugment(dataset: DatasetName): (typeof AUGMENTATIONS)[number] {
  return dataset === 'cifar10' ? 'cifar' : 'none';
}

/**
 * Refuses to resume a run with another augmentation than it was trained with (a run stored before `--augment`
 * existed trained without one). Throws `INVALID_ARGUMENT` naming the flag to pass.
 */
export function assertResumableAugment(stored: Pick<ExperimentConfig, 'augment'> | undefined, requested: Pick<ExperimentConfig, 'augment'>): void {
  const used = stored?.augment ?? 'none';
  const wanted = requested.augment ?? 'none';
  if (used !== wanted) {
    throw new LipschitzError('INVALID_ARGUMENT', `--resume: the run was trained with --augment ${used}; pass --augment ${used} to continue it exactly (or --force to start over with ${wanted}).`);
  }
}

/**
 * The training batches of a run: `@lipschitz/datasets`' `batches` (seeded shuffle, last partial batch kept)
 * with the run's augmentation (`config.augment`; absent means none, as runs were trained before the flag).
 */
export function trainingBatcher(config: Pick<ExperimentConfig, 'augment'>): Batcher {
  const augment = config.augment ?? 'none';
  return (set, options) => batches(set as ImageSet, { ...options, augment });
}

/**
 * Presets: the paper's experiments (reference-bcop.md §8: Adam 1e-3, ExponentialLR γ = 0.96235062639 per
 * epoch, 200 epochs, batch 128, hinge margin √2·1.5 on MNIST and √2·0.5 on CIFAR-10) and quick runs.
 */
export const PRESETS: Record<string, Omit<ExperimentConfig, 'seed'>> = {
  'mnist-small': { model: 'small', conv: 'bcop', activation: 'maxmin', dataset: 'mnist', epochs: 200, batchSize: 128, lr: 1e-3, lossEpsilon: 1.5 },
  'mnist-large': { model: 'large', conv: 'bcop', activation: 'maxmin', dataset: 'mnist', epochs: 200, batchSize: 128, lr: 1e-3, lossEpsilon: 1.5 },
  'cifar-small': { model: 'small', conv: 'bcop', activation: 'maxmin', dataset: 'cifar10', epochs: 200, batchSize: 128, lr: 1e-3, lossEpsilon: 0.5 },
  'cifar-large': { model: 'large', conv: 'bcop', activation: 'maxmin', dataset: 'cifar10', epochs: 200, batchSize: 128, lr: 1e-3, lossEpsilon: 0.5 },
  // The main job (`robustness quickstart`, `pnpm main`) runs exactly this preset: its epochs are set here only.
  quick: { model: 'small', conv: 'bcop', activation: 'maxmin', dataset: 'mnist', epochs: 3, batchSize: 128, lr: 1e-3, lossEpsilon: 1.5 },
};

/** The input shape of a dataset (NHWC without the batch axis). */
export function inputShapeOf(dataset: DatasetName): [number, number, number] {
  return dataset === 'cifar10' ? [32, 32, 3] : [28, 28, 1];
}

/** The paper's certified ε for a dataset (MNIST 1.58 and 0.3; CIFAR-10 36/255 and 0.1). */
export function defaultEpsilons(dataset: DatasetName): { text: string; value: number }[] {
  return dataset === 'cifar10'
    ? [
        { text: '0.1411764706', value: 36 / 255 },
        { text: '0.1', value: 0.1 },
      ]
    : [
        { text: '1.58', value: 1.58 },
        { text: '0.3', value: 0.3 },
      ];
}

/** The model builders' orthogonalization options of an `--orthogonalizer` choice. */
export function orthogonalizationOptions(name: (typeof ORTHOGONALIZERS)[number] | undefined): Pick<ModelOptions, 'orthogonalization' | 'orthogonalizer'> {
  switch (name ?? LEGACY_ORTHOGONALIZER) {
    case 'projected':
      return { orthogonalization: 'projected' };
    case 'reference':
      return { orthogonalization: 'unrolled', orthogonalizer: REFERENCE_BJORCK };
    case 'fast-polar':
      return { orthogonalization: 'unrolled', orthogonalizer: FAST_POLAR };
    case 'reprojected':
      return { orthogonalization: 'reprojected' };
    default:
      return { orthogonalization: 'unrolled' };
  }
}

/** Builds the (untrained) model of a run; the same seed gives the same initial weights. */
export function buildModel(config: ExperimentConfig): Sequential {
  const options: ModelOptions = {
    conv: config.conv as ConvType,
    activation: config.activation as ActivationType,
    inputShape: inputShapeOf(config.dataset),
    seed: config.seed,
    ...orthogonalizationOptions(config.orthogonalizer),
    ...(config.retractionSteps !== undefined ? { retractionSteps: config.retractionSteps } : {}),
  };
  if (config.model === 'small') return smallConvNet(options);
  if (config.model === 'large') return largeConvNet(options);
  return fc3(options);
}

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /**
   * Whether the training split is needed (default true). `certify` and `attack` pass false: a CIFAR-10 image folder
   * then decodes only its test images (the binary files and MNIST are read whole, as before).
   */
  train?: boolean;
}

/**
 * Loads a dataset's train and test splits: MNIST ships with the package unless `dataDir` names a copy of its IDX
 * files; Fashion-MNIST from its files; CIFAR-10 from `dataDir` ({@link loadCifar10}: the official binary files, or a
 * folder or `.tar`/`.tar.gz` of class-named image folders). A CIFAR-10 image folder decodes only the first
 * `trainLimit` training images (its order is class-interleaved, so they are exactly the ones training would keep).
 */
export async function loadDataset(
  config: Pick<ExperimentConfig, 'dataset' | 'dataDir'> & Partial<Pick<ExperimentConfig, 'trainLimit'>>,
  options: LoadDatasetOptions = {},
): Promise<{ train: ImageSet; test: ImageSet }> {
  switch (config.dataset) {
    case 'mnist':
      return mnist(config.dataDir ? { dir: config.dataDir } : {});
    case 'fashion-mnist':
      return fashionMnist(config.dataDir ? { dir: config.dataDir } : {});
    case 'cifar10':
      return loadCifar10(config.dataDir, options.train === false ? 0 : config.trainLimit);
  }
}

/** What `--data-dir` may name for CIFAR-10, for the error messages. */
const CIFAR10_SOURCES =
  'the official binary files (cifar-10-batches-bin/ from https://www.cs.toronto.edu/~kriz/cifar.html), or a folder or .tar/.tar.gz archive of train/<class>/<image> and test/<class>/<image> JPEG or PNG files with the CIFAR-10 class names (e.g. a JPEG copy such as cifar10-jpeg-q75.tar.gz)';

/**
 * CIFAR-10 for a run: `dataDir` is either the official binary version (a folder holding `test_batch.bin`,
 * `data_batch_1.bin` … or `cifar-10-batches-bin/`: `cifar10` of `@lipschitz/datasets`) or a folder or `.tar`/`.tar.gz`
 * of 32×32 images `train/<class>/…` and `test/<class>/…` (`imageFolder`), labelled by the official class order
 * ({@link CIFAR10_CLASSES}: airplane = 0 … truck = 9) — for example the lossy JPEG q75 copy of CIFAR-10, whose
 * results must be reported as "CIFAR-10 (JPEG q75)". `trainLimit` keeps the first training images (0: none are read).
 *
 * @throws LipschitzError `INVALID_ARGUMENT` without `dataDir`; `NOT_FOUND` for a path that does not exist or a folder
 *   holding neither form; `CORRUPT_DATA` for a damaged archive or image, a class folder that is not a CIFAR-10
 *   class, or a split without images; `SHAPE_MISMATCH` for images that are not 32×32.
 */
export async function loadCifar10(dataDir: string | undefined, trainLimit?: number): Promise<{ train: ImageSet; test: ImageSet }> {
  if (!dataDir) throw new LipschitzError('INVALID_ARGUMENT', `cifar10 needs --data-dir: ${CIFAR10_SOURCES}.`);
  if (!existsSync(dataDir)) throw new LipschitzError('NOT_FOUND', `--data-dir ${dataDir} does not exist. Pass ${CIFAR10_SOURCES}.`);
  if (statSync(dataDir).isDirectory()) {
    if (['test_batch.bin', 'data_batch_1.bin', 'cifar-10-batches-bin'].some((name) => existsSync(join(dataDir, name)))) {
      return cifar10({ dir: dataDir, ...(trainLimit !== undefined ? { trainLimit } : {}) });
    }
    if (!existsSync(join(dataDir, 'test'))) {
      throw new LipschitzError('NOT_FOUND', `--data-dir ${dataDir} holds neither the CIFAR-10 binary files (test_batch.bin, data_batch_1.bin, …) nor train/ and test/ image folders. Pass ${CIFAR10_SOURCES}.`);
    }
  }
  const sets = await imageFolder({ path: dataDir, classes: CIFAR10_CLASSES, channels: 3, ...(trainLimit !== undefined ? { trainLimit } : {}) });
  for (const [split, set] of [
    ['train', sets.train],
    ['test', sets.test],
  ] as const) {
    if (split === 'train' && trainLimit === 0) continue;
    if (set.count === 0) throw new LipschitzError('CORRUPT_DATA', `--data-dir ${dataDir} has no ${split} images (expected ${split}/<class>/<image>.jpg or .png).`);
    if (set.height !== 32 || set.width !== 32) {
      throw new LipschitzError('SHAPE_MISMATCH', `--data-dir ${dataDir}: the ${split} images are ${set.width}×${set.height}; CIFAR-10 models take 32×32 RGB images. Resize them first.`);
    }
  }
  return sets;
}

/** The paper's Table 1 / Table 3 / Table 9 numbers (clean / certified / PGD / FGSM, %), for the report. */
export const PAPER_RESULTS: Record<string, { clean: number; certified: number; pgd?: number; fgsm?: number; eps: string }> = {
  'mnist/small/bcop': { clean: 97.54, certified: 45.84, eps: '1.58' },
  'mnist/large/bcop': { clean: 98.77, certified: 56.66, pgd: 86.86, fgsm: 86.93, eps: '1.58' },
  'mnist/small/rko': { clean: 97.28, certified: 43.58, eps: '1.58' },
  'mnist/small/ossn': { clean: 96.86, certified: 42.95, eps: '1.58' },
  'mnist/small/svcm': { clean: 97.24, certified: 28.94, eps: '1.58' },
  'mnist/large/rko': { clean: 98.44, certified: 55.18, eps: '1.58' },
  'mnist/large/ossn': { clean: 98.31, certified: 53.77, eps: '1.58' },
  'mnist/large/svcm': { clean: 97.93, certified: 38.0, eps: '1.58' },
  'mnist/fc3/bcop': { clean: 98.71, certified: 54.46, eps: '1.58' },
  'cifar10/small/bcop': { clean: 64.53, certified: 50.01, pgd: 51.26, fgsm: 51.57, eps: '0.1411764706' },
  'cifar10/large/bcop': { clean: 72.41, certified: 58.72, pgd: 64.39, fgsm: 64.53, eps: '0.1411764706' },
};
