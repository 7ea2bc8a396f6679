#!/usr/bin/env node
import { parseChoice, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, runAction } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';
import { LipschitzError } from '@lipschitz/core';
import { Command, Option } from 'commander';
import { estimateCommand } from './commands/estimate';
import { exactCommand } from './commands/exact';
import { CRITICS } from './critic';

const NAME = 'wgan';
const BACKENDS = ['auto', 'wasm', 'cpu', 'node', 'node-gpu', 'webgpu'] as const;

const program = new Command()
  .name(NAME)
  .description('Wasserstein-1 distances: exact on samples, estimated with 1-Lipschitz critics, on a WGAN-GP generator of our own.')
  .configureOutput({ outputError: (text, write) => write(`${NAME}: ${text.replace(/^error: /, '').trim()}\n`) });

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

await program.parseAsync(process.argv);
