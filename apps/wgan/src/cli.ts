#!/usr/bin/env node
import { exitOnUsageError, parseChoice, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, runAction } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';
import { Command, Option } from 'commander';
import appPackage from '../package.json' with { type: 'json' };
import { compareCommand } from './commands/compare';
import { estimateCommand } from './commands/estimate';
import { exactCommand } from './commands/exact';
import { trainGanCommand } from './commands/train-gan';
import { CRITICS } from './critic';
import { TABLE4_ACTIVATIONS, TABLE4_CONVS } from './gan/table4-critic';

const NAME = 'wgan';
const BACKENDS = ['auto', 'wasm', 'cpu', 'node', 'node-gpu', 'webgpu'] as const;

const program = new Command()
  .name(NAME)
  .description('Wasserstein-1 distances: exact on samples, estimated with 1-Lipschitz critics, on a WGAN-GP generator of our own.')
  .configureOutput({ outputError: (text, write) => write(`${NAME}: ${text.replace(/^error: /, '').trim()}\n`) })
  .version(`${NAME} ${appPackage.version} (@tensorflow/tfjs-core ${tf.version_core})`, '--version', 'print the version and exit')
  // Usage errors (unknown option, missing required option or value) exit 2, like a bad value; see runAction.
  .exitOverride(exitOnUsageError);

program
  .command('exact')
  .description('exact W1 between two equal-size sets of points (.npy, rows are points); prints it as the last line')
  .requiredOption('--a <file>', 'first set (.npy, float32 or float64, shape [n, d])')
  .requiredOption('--b <file>', 'second set (.npy, same shape)')
  .option('--out <file>', 'write { w1, n, dim } as JSON')
  .action((flags: { a: string; b: string; out?: string }) => runAction(NAME, async () => void (await exactCommand(flags))));

program
  .command('estimate')
  .description('train a 1-Lipschitz critic on part of the two sets; report the estimate on the training and held-out points')
  .requiredOption('--a <file>', 'first set (.npy)')
  .requiredOption('--b <file>', 'second set (.npy)')
  .option('--critic <type>', CRITICS.join('|'), 'dense')
  .option('--activation <name>', 'maxmin|relu', 'maxmin')
  .option('--steps <n>', 'critic training steps', '1000')
  .option('--seed <n>', 'seed', '0')
  .option('--lr <x>', 'RMSprop learning rate (default 1e-4 for MaxMin, 1e-3 for ReLU, as the reference)')
  .option('--shape <hxwxc>', 'reshape each row to an image, e.g. 32x32x1 (needed by conv critics)')
  .option('--held-out <fraction>', 'fraction of each set held out', '0.2')
  .option('--out <file>', 'write the result as JSON')
  .addOption(new Option('--backend <name>', BACKENDS.join(', ')).default('auto'))
  .action(
    (flags: { a: string; b: string; critic: string; activation: string; steps: string; seed: string; lr?: string; shape?: string; heldOut: string; out?: string; backend: string }) =>
      runAction(NAME, async () => {
        const heldOutFraction = Number(flags.heldOut);
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
          throw new LipschitzError('INVALID_ARGUMENT', `--held-out must be a fraction in (0, 1), got ${JSON.stringify(flags.heldOut)}.`);
        }
        const shape = flags.shape?.split('x').map((s) => parsePositiveInt('--shape', s));
        await estimateCommand({
          a: flags.a,
          b: flags.b,
          critic: parseChoice('--critic', flags.critic, CRITICS),
          activation: parseChoice('--activation', flags.activation, ['maxmin', 'relu'] as const),
          steps: parsePositiveInt('--steps', flags.steps),
          seed: parseNonNegativeInt('--seed', flags.seed),
          lr: flags.lr ? parsePositiveNumber('--lr', flags.lr) : undefined,
          shape,
          heldOutFraction,
          out: flags.out,
          backend: parseChoice('--backend', flags.backend, BACKENDS) as BackendName,
        });
      }),
  );

program
  .command('train-gan')
  .description('train the reference WGAN-GP generator (infoGAN style, 28×28×1) on MNIST; save it at several stages')
  .requiredOption('--out <dir>', 'run directory (generators/, samples/, metrics.json, report.html, summary.json)')
  .option('--dataset <name>', 'mnist', 'mnist')
  .option('--epochs <n>', 'passes over the training images (critic iterations / (images / batch))', '1')
  .option('--steps <n>', 'generator steps instead of --epochs (each with --n-critic critic iterations)')
  .option('--train-limit <n>', 'use only the first N training images')
  .option('--n-critic <n>', 'critic iterations per generator step', '5')
  .option('--gp-weight <x>', 'gradient-penalty weight λ (WGAN-GP: 10; the reference used 50)', '10')
  .option('--hidden <n>', 'channels of the generator 7×7 map (reference 32, infoGAN 128)', '32')
  .option('--critic-width <n>', 'channels of the GAN critic first conv (the second has twice as many)', '32')
  .option('--seed <n>', 'seed', '0')
  .option('--force', 'replace a finished run in --out')
  .addOption(new Option('--backend <name>', BACKENDS.join(', ')).default('auto'))
  .action(
    (flags: { out: string; dataset: string; epochs: string; steps?: string; trainLimit?: string; nCritic: string; gpWeight: string; hidden: string; criticWidth: string; seed: string; force?: boolean; backend: string }) =>
      runAction(NAME, async () => {
        await trainGanCommand({
          dataset: parseChoice('--dataset', flags.dataset, ['mnist'] as const),
          epochs: parsePositiveInt('--epochs', flags.epochs),
          steps: flags.steps === undefined ? undefined : parsePositiveInt('--steps', flags.steps),
          trainLimit: flags.trainLimit === undefined ? undefined : parsePositiveInt('--train-limit', flags.trainLimit),
          nCritic: parsePositiveInt('--n-critic', flags.nCritic),
          gpWeight: parsePositiveNumber('--gp-weight', flags.gpWeight),
          hidden: parsePositiveInt('--hidden', flags.hidden),
          criticWidth: parsePositiveInt('--critic-width', flags.criticWidth),
          seed: parseNonNegativeInt('--seed', flags.seed),
          out: flags.out,
          force: Boolean(flags.force),
          backend: parseChoice('--backend', flags.backend, BACKENDS) as BackendName,
        });
      }),
  );

program
  .command('compare')
  .description("the paper's Table 4 on our generator: each critic type × activation, the exact W1 of the same samples beside")
  .requiredOption('--gan <dir>', 'a train-gan run directory')
  .requiredOption('--out <dir>', 'output directory (compare.json, report.html)')
  .option('--critics <list>', TABLE4_CONVS.join(','), 'bcop,rko,ossn')
  .option('--activations <list>', TABLE4_ACTIVATIONS.join(','), 'maxmin,relu')
  .option('--steps <n>', 'critic training steps (the same for every critic)', '200')
  .option('--pairs <n>', 'fresh held-out pairs of the estimate (reference 6,400)', '6400')
  .option('--exact-size <n>', 'points per side of the exact-W1 sample pair', '1000')
  .option('--width <n>', 'channels of the first critic conv, doubling after (reference 64)', '8')
  .option('--stage <name>', 'generator stage (generators/<stage>.json)', 'final')
  .option('--lr-maxmin <x>', 'RMSprop lr of the MaxMin critics', '1e-4')
  .option('--lr-relu <x>', 'RMSprop lr of the ReLU critics', '1e-3')
  .option('--seed <n>', 'seed', '0')
  .option('--force', 'replace a finished comparison in --out')
  .addOption(new Option('--backend <name>', BACKENDS.join(', ')).default('auto'))
  .action(
    (flags: {
      gan: string;
      out: string;
      critics: string;
      activations: string;
      steps: string;
      pairs: string;
      exactSize: string;
      width: string;
      stage: string;
      lrMaxmin: string;
      lrRelu: string;
      seed: string;
      force?: boolean;
      backend: string;
    }) =>
      runAction(NAME, async () => {
        const list = <T extends string>(flag: string, text: string, allowed: readonly T[]) => {
          const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
          if (items.length === 0) throw new LipschitzError('INVALID_ARGUMENT', `${flag} needs at least one of ${allowed.join(', ')}.`);
          return [...new Set(items.map((item) => parseChoice(flag, item, allowed)))];
        };
        await compareCommand({
          gan: flags.gan,
          out: flags.out,
          critics: list('--critics', flags.critics, TABLE4_CONVS),
          activations: list('--activations', flags.activations, TABLE4_ACTIVATIONS),
          steps: parsePositiveInt('--steps', flags.steps),
          pairs: parsePositiveInt('--pairs', flags.pairs),
          exactSize: parsePositiveInt('--exact-size', flags.exactSize),
          width: parsePositiveInt('--width', flags.width),
          stage: flags.stage,
          learningRates: { maxmin: parsePositiveNumber('--lr-maxmin', flags.lrMaxmin), relu: parsePositiveNumber('--lr-relu', flags.lrRelu) },
          seed: parseNonNegativeInt('--seed', flags.seed),
          force: Boolean(flags.force),
          backend: parseChoice('--backend', flags.backend, BACKENDS) as BackendName,
        });
      }),
  );

await program.parseAsync(process.argv);
