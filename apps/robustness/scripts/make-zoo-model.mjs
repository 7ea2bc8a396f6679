#!/usr/bin/env node
// Adds (or replaces) a model of the zoo, apps/robustness/models/: trains a run with the built CLI, exports its best
// checkpoint as models/<name>.json (a lipschitz-model/1 file), certifies that file as `certify --model zoo:<name>`
// will, and records the commands, the file's size and the numbers in models/zoo.json (test/reproduce.test.ts
// re-checks them exactly).
//   pnpm --filter @lipschitz/robustness-app build
//   node apps/robustness/scripts/make-zoo-model.mjs                      # the demo model (below)
//   node apps/robustness/scripts/make-zoo-model.mjs --name N --description "…" --run DIR [--test-limit N]
//   node apps/robustness/scripts/make-zoo-model.mjs --name N --description "…" --model FILE.json --command "…" [--command "…"] [--data-dir CIFAR]
// With --run DIR the script skips training and exports that finished run (e.g. the main job's, runs/mnist-quick);
// with --model FILE it takes a file `robustness export` already wrote (e.g. an experiment's models/<row>.json) and
// records the --command lines that made it (train/experiment and export; the script adds its own certify command).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { zooSizeLimit } from './zoo-limits.mjs';

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = join(APP_DIR, 'models');
const INDEX = join(MODELS, 'zoo.json');

/** The demo model: BCOP Small, MNIST, the paper's protocol (exponential schedule), a short run on 4,096 images. */
const DEMO = {
  name: 'mnist-small-bcop-demo',
  train: ['--preset', 'quick', '--epochs', '2', '--train-limit', '4096', '--test-limit', '1000', '--seed', '0'],
  description:
    'BCOP Small on MNIST, a demo: 2 epochs of the paper’s protocol (Adam 1e-3 × 0.96235^epoch, hinge margin √2·1.5, default projected orthogonalization) on the first 4,096 training images only, best of 2 epochs on the first 1,000 test images. Not the paper’s model (200 epochs on 60,000 images).',
};

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    description: { type: 'string' },
    run: { type: 'string' },
    model: { type: 'string' },
    command: { type: 'string', multiple: true },
    'data-dir': { type: 'string' },
    'test-limit': { type: 'string', default: '1000' },
    cli: { type: 'string', default: join(APP_DIR, 'dist', 'cli.js') },
  },
});

function fail(message) {
  process.stderr.write(`make-zoo-model: ${message}\n`);
  process.exit(1);
}

const cli = resolve(values.cli);
if (!existsSync(cli)) fail(`${cli} does not exist; build the CLI first: pnpm --filter @lipschitz/robustness-app build`);
const source = values.run ?? values.model;
if (values.run !== undefined && values.model !== undefined) fail('pass --run or --model, not both.');
if ((source === undefined) !== (values.name === undefined) || (source !== undefined && values.description === undefined)) {
  fail('pass --name, --description and --run (an existing run) or --model (an exported file) together, or none of them (the demo model).');
}
if (values.model !== undefined && !(values.command?.length > 0)) fail('with --model, pass the commands that made the file with --command, one per command (the experiment or train command and the export; the certify command is added here).');
const name = values.name ?? DEMO.name;
if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail(`--name must be lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
const testLimit = values['test-limit'];
const shown = (args) => `robustness ${args.map((a) => (/^[\w./:=-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`;

function robustness(args) {
  process.stderr.write(`$ ${shown(args)}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(result.stdout ?? '');
  if (result.status !== 0) fail(`${shown(args)} failed (exit ${result.status})`);
}

const scratch = mkdtempSync(join(tmpdir(), 'zoo-'));
try {
  const commands = [];
  let run = values.run;
  if (run === undefined && values.model === undefined) {
    run = join(scratch, 'run');
    robustness(['train', ...DEMO.train, '--out', run]);
    commands.push(shown(['train', ...DEMO.train, '--out', 'RUN']));
  }
  const file = `${name}.json`;
  const exported = join(scratch, file);
  if (values.model !== undefined) {
    writeFileSync(exported, readFileSync(values.model));
    commands.push(...values.command);
  } else {
    robustness(['export', '--run', run, '--out', exported]);
    commands.push(shown(['export', '--run', values.run ?? 'RUN', '--out', `apps/robustness/models/${file}`]));
  }
  const bytes = statSync(exported).size;
  const { limitMiB, kind } = zooSizeLimit(name);
  if (bytes >= limitMiB * 1024 * 1024) fail(`${file} weighs ${bytes} bytes; the zoo keeps ${kind} under ${limitMiB} MiB.`);
  const metadata = JSON.parse(readFileSync(exported, 'utf8')).metadata ?? {};
  // A CIFAR-10 model is certified on the copy given with --data-dir (MNIST ships with the library).
  const dataFlags = metadata.dataset && metadata.dataset !== 'mnist' ? ['--dataset', metadata.dataset, ...(values['data-dir'] ? ['--data-dir', values['data-dir']] : [])] : [];
  const certified = join(scratch, 'certify.json');
  robustness(['certify', '--model', exported, '--test-limit', testLimit, ...dataFlags, '--out', certified]);
  commands.push(shown(['certify', '--model', `zoo:${name}`, '--test-limit', testLimit, ...dataFlags.map((f) => (f === values['data-dir'] ? 'CIFAR10_DATA' : f))]));
  const c = JSON.parse(readFileSync(certified, 'utf8'));
  const index = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : { format: 'lipschitz-zoo/1', models: {} };
  index.models[name] = {
    file,
    dataset: metadata.dataset ?? 'mnist',
    description: values.description ?? DEMO.description,
    commands,
    bytes,
    certified: { count: c.count, clean: c.clean, certified: c.certified, lipschitzUpperBound: c.lipschitzUpperBound },
  };
  mkdirSync(MODELS, { recursive: true });
  writeFileSync(join(MODELS, file), readFileSync(exported));
  writeFileSync(INDEX, `${JSON.stringify(index, null, 2)}\n`);
  process.stdout.write(`zoo:${name} → ${join(MODELS, file)} (${(bytes / 1024).toFixed(0)} KiB); clean ${(100 * c.clean).toFixed(2)} % on ${c.count} test images\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
