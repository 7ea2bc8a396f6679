import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';
import { type ExperimentConfig, scheduleLabel } from '../experiment';

/** One line of a table spec: every combination of its lists is a row. */
export interface ExperimentRowSpec {
  model: string | string[];
  conv: string | string[];
  activation?: string | string[];
  dataset?: string | string[];
  /** Seeds (default [0]). */
  seeds?: number[];
  /** Extra `robustness train` flags for these rows only (e.g. ["--epochs", "40"]). */
  train?: string[];
}

/** A table: rows × a schedule × a budget, what to certify and which attacks to run. */
export interface ExperimentSpec {
  /** A name for the table (used in the summary). */
  name: string;
  rows: ExperimentRowSpec[];
  /** `robustness train` flags shared by every row (e.g. ["--epochs", "20", "--schedule", "compressed"]). */
  train?: string[];
  /** Wall-clock training budget per row, in seconds (passed as `--time-budget`; default none). */
  timeBudgetSeconds?: number;
  /** `robustness certify` flags (default: the run's ε, the full test set). */
  certify?: string[];
  /** Attacks after certification: each an `attack` flag list, e.g. ["--attack", "pgd", "--eps", "1.58", "--test-limit", "1000"]. */
  attacks?: string[][];
}

/** Where a row stands: the steps done, in order. */
interface TableState {
  format: 'lipschitz-experiment-state/1';
  spec: ExperimentSpec;
  rows: Record<string, { done: string[] }>;
}

/** One row of the summary. */
export interface ExperimentSummaryRow {
  id: string;
  model: string;
  conv: string;
  activation: string;
  dataset: string;
  seed: number;
  /** The exact `robustness train` command line (flags) of the row. */
  trainFlags: string[];
  status: string;
  /** The learning-rate schedule the row trained with (`config.json`): `exponential` (the paper's) or `compressed 200→N`. */
  schedule: string;
  epochs: number | null;
  bestEpoch: number | null;
  trainingSeconds: number | null;
  clean: number | null;
  certified: Record<string, number>;
  lipschitzUpperBound: number | null;
  /** Every attack file of the row; the decision attacks add the median ℓ2 perturbation they found (`null`: +∞). */
  attacks: { file: string; attack: string; epsilon: number; count: number; robustAccuracy: number; brokenCertified: number; medianPerturbation?: number | null }[];
  model_file: string;
}

const SPEC_KEYS = new Set(['name', 'rows', 'train', 'timeBudgetSeconds', 'certify', 'attacks']);
const ROW_KEYS = new Set(['model', 'conv', 'activation', 'dataset', 'seeds', 'train']);

function list(value: string | string[] | undefined, fallback: string): string[] {
  if (value === undefined) return [fallback];
  return Array.isArray(value) ? value : [value];
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

/** Validates a spec (unknown keys are refused, so a typo never silently drops a setting). */
export function parseExperimentSpec(value: unknown, source: string): ExperimentSpec {
  const fail = (what: string): never => {
    throw new LipschitzError('INVALID_ARGUMENT', `experiment: ${source}: ${what}. See apps/robustness/README.md, "robustness experiment", for the spec format.`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('the spec must be a JSON object');
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) if (!SPEC_KEYS.has(key)) fail(`unknown key "${key}" (allowed: ${[...SPEC_KEYS].join(', ')})`);
  if (typeof spec.name !== 'string' || spec.name === '') fail('"name" must be a non-empty string');
  if (!Array.isArray(spec.rows) || spec.rows.length === 0) fail('"rows" must be a non-empty list');
  for (const [i, row] of (spec.rows as unknown[]).entries()) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) fail(`rows[${i}] must be an object`);
    const r = row as Record<string, unknown>;
    for (const key of Object.keys(r)) if (!ROW_KEYS.has(key)) fail(`rows[${i}] has an unknown key "${key}" (allowed: ${[...ROW_KEYS].join(', ')})`);
    for (const key of ['model', 'conv', 'activation', 'dataset']) {
      const v = r[key];
      if (v === undefined && (key === 'model' || key === 'conv')) fail(`rows[${i}].${key} is required`);
      if (v !== undefined && typeof v !== 'string' && !(isStringList(v) && v.length > 0)) fail(`rows[${i}].${key} must be a string or a non-empty list of strings`);
    }
    if (r.seeds !== undefined && !(Array.isArray(r.seeds) && r.seeds.length > 0 && r.seeds.every((s) => Number.isInteger(s) && s >= 0))) {
      fail(`rows[${i}].seeds must be a non-empty list of non-negative integers`);
    }
    if (r.train !== undefined && !isStringList(r.train)) fail(`rows[${i}].train must be a list of strings (flags)`);
  }
  for (const key of ['train', 'certify']) if (spec[key] !== undefined && !isStringList(spec[key])) fail(`"${key}" must be a list of strings (flags)`);
  if (spec.attacks !== undefined && !(Array.isArray(spec.attacks) && spec.attacks.every(isStringList))) fail('"attacks" must be a list of flag lists');
  if (spec.timeBudgetSeconds !== undefined && !(typeof spec.timeBudgetSeconds === 'number' && spec.timeBudgetSeconds > 0)) fail('"timeBudgetSeconds" must be a positive number');
  for (const flags of [spec.train, ...((spec.rows as ExperimentRowSpec[]).map((r) => r.train) ?? [])]) {
    for (const reserved of ['--out', '--seed', '--model', '--conv', '--activation', '--dataset', '--resume', '--force']) {
      if ((flags as string[] | undefined)?.includes(reserved)) fail(`train flags may not contain ${reserved}: the table sets it per row`);
    }
  }
  return spec as unknown as ExperimentSpec;
}

/** Every row of the spec, in order, with its id and full train flags. */
export function expandRows(spec: ExperimentSpec) {
  const rows: { id: string; model: string; conv: string; activation: string; dataset: string; seed: number; trainFlags: string[] }[] = [];
  for (const r of spec.rows) {
    for (const model of list(r.model, 'small'))
      for (const conv of list(r.conv, 'bcop'))
        for (const activation of list(r.activation, 'maxmin'))
          for (const dataset of list(r.dataset, 'mnist'))
            for (const seed of r.seeds ?? [0]) {
              const id = `${dataset}-${model}-${conv}-${activation}-s${seed}`;
              const trainFlags = ['--model', model, '--conv', conv, '--activation', activation, '--dataset', dataset, '--seed', String(seed), ...(spec.train ?? []), ...(r.train ?? [])];
              if (spec.timeBudgetSeconds !== undefined) trainFlags.push('--time-budget', String(spec.timeBudgetSeconds));
              rows.push({ id, model, conv, activation, dataset, seed, trainFlags });
            }
  }
  const ids = new Set<string>();
  for (const row of rows) {
    if (ids.has(row.id)) throw new LipschitzError('INVALID_ARGUMENT', `experiment: the row ${row.id} appears twice in the spec; list each combination once.`);
    ids.add(row.id);
  }
  return rows;
}

/** Runs `node <cli> args…` with inherited output; resolves on exit 0. */
function runCli(cliPath: string, args: string[], what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new LipschitzError('STEP_FAILED', `experiment: ${what} failed (${signal ?? `exit ${code}`}). Fix the cause and run the same command again: finished steps are kept and training resumes.`));
    });
  });
}

async function readOptionalJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Reads a finished row's files into a summary row. */
async function summarize(out: string, row: ReturnType<typeof expandRows>[number]): Promise<ExperimentSummaryRow> {
  const dir = join(out, 'runs', row.id);
  const summary = await readOptionalJson<{ status: string; epochs: number; elapsedMs: number; best?: { epoch: number } }>(join(dir, 'summary.json'));
  const experiment = (await readOptionalJson<{ experiment?: Pick<ExperimentConfig, 'schedule' | 'scheduleEpochs' | 'epochs'> }>(join(dir, 'config.json')))?.experiment;
  const schedule = experiment === undefined ? '—' : scheduleLabel(experiment);
  // certify.json for the run's standard settings, else the file named after the spec's settings (evaluations.ts).
  const certifyFile = existsSync(join(dir, 'certify.json'))
    ? 'certify.json'
    : (existsSync(dir) ? readdirSync(dir).filter((f) => /^certify-.*\.json$/.test(f)).sort()[0] : undefined);
  const certify = certifyFile ? await readOptionalJson<{ clean: number; certified: Record<string, number>; lipschitzUpperBound: number }>(join(dir, certifyFile)) : null;
  const attacks: ExperimentSummaryRow['attacks'] = [];
  for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => /^attack-.*\.json$/.test(f)).sort() : []) {
    const a = await readOptionalJson<{ attack: string; epsilon: number; count: number; robustAccuracy: number; brokenCertified: number; medianPerturbation?: number | null }>(join(dir, file));
    if (a) {
      attacks.push({
        file,
        attack: a.attack,
        epsilon: a.epsilon,
        count: a.count,
        robustAccuracy: a.robustAccuracy,
        brokenCertified: a.brokenCertified,
        ...(a.medianPerturbation !== undefined ? { medianPerturbation: a.medianPerturbation } : {}),
      });
    }
  }
  return {
    id: row.id,
    model: row.model,
    conv: row.conv,
    activation: row.activation,
    dataset: row.dataset,
    seed: row.seed,
    trainFlags: row.trainFlags,
    status: summary?.status ?? 'not trained',
    schedule,
    epochs: summary?.epochs ?? null,
    bestEpoch: summary?.best?.epoch ?? null,
    trainingSeconds: summary ? summary.elapsedMs / 1000 : null,
    clean: certify?.clean ?? null,
    certified: certify?.certified ?? {},
    lipschitzUpperBound: certify?.lipschitzUpperBound ?? null,
    attacks,
    model_file: `models/${row.id}.json`,
  };
}

function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : (100 * v).toFixed(2);
}

/** The summary as a Markdown table. */
export function summaryMarkdown(spec: ExperimentSpec, rows: ExperimentSummaryRow[]): string {
  const epsilons = [...new Set(rows.flatMap((r) => Object.keys(r.certified)))];
  const attackKeys = [...new Set(rows.flatMap((r) => r.attacks.map((a) => `${a.attack} ε=${a.epsilon}`)))];
  const header = ['row', 'status', 'epochs (best)', 'schedule', 'training time', 'clean %', ...epsilons.map((e) => `certified % ε=${e}`), ...attackKeys.map((k) => `${k} %`), 'broken certified', 'L'];
  const lines = [`# ${spec.name}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const broken = r.attacks.reduce((s, a) => s + a.brokenCertified, 0);
    lines.push(
      `| ${[
        r.id,
        r.status,
        r.epochs === null ? '—' : `${r.epochs} (${r.bestEpoch ?? '—'})`,
        r.schedule,
        r.trainingSeconds === null ? '—' : `${(r.trainingSeconds / 60).toFixed(1)} min`,
        percent(r.clean),
        ...epsilons.map((e) => percent(r.certified[e])),
        ...attackKeys.map((k) => {
          const a = r.attacks.find((x) => `${x.attack} ε=${x.epsilon}` === k);
          if (!a) return '—';
          const median = a.medianPerturbation === undefined ? '' : `, median ‖δ‖₂ ${a.medianPerturbation === null ? '∞' : a.medianPerturbation.toFixed(3)}`;
          return `${percent(a.robustAccuracy)} (on ${a.count}${median})`;
        }),
        r.attacks.length === 0 ? '—' : String(broken),
        r.lipschitzUpperBound === null ? '—' : r.lipschitzUpperBound.toPrecision(8),
      ].join(' | ')} |`,
    );
  }
  lines.push('', 'Commands (per row): `robustness train <flags> --out runs/<row>` (with `--resume` after an interruption), then `certify`, the attacks, `export --out models/<row>.json` and `report`.', '');
  for (const r of rows) lines.push(`- \`${r.id}\`: \`robustness train ${r.trainFlags.join(' ')}${r.dataset === 'mnist' ? '' : ' [--data-dir DIR]'}\``);
  return `${lines.join('\n')}\n`;
}

export interface ExperimentCommandOptions {
  spec: string;
  out: string;
  /** Path of the CLI to run steps with (default: this process's script). */
  cliPath?: string;
  /** Only print the rows and their commands. */
  dryRun?: boolean;
  /**
   * `--data-dir`: the files of the rows whose dataset does not ship with the library (CIFAR-10, Fashion-MNIST), passed
   * to their `train` step — so that a committed spec names no path of one machine. MNIST rows ignore it.
   */
  dataDir?: string;
  log?: (line: string) => void;
}

/**
 * `robustness experiment --spec SPEC.json --out DIR`: runs a results table — each row (model × conv × activation ×
 * dataset × seed) is trained into `DIR/runs/<row>`, certified, attacked, exported to `DIR/models/<row>.json` and
 * reported — and writes `DIR/summary.json` and `DIR/summary.md`. Every step is a run of this CLI's own command, so a
 * row's files are exactly what those commands write. Resumable: `DIR/state.json` records finished steps
 * (atomically); running the same command again skips them and resumes an interrupted training with `--resume`.
 */
export async function experimentCommand({ spec: specPath, out, cliPath = process.argv[1], dryRun = false, dataDir, log = () => {} }: ExperimentCommandOptions): Promise<ExperimentSummaryRow[]> {
  const spec = parseExperimentSpec(await readJson<unknown>(specPath, 'experiment spec'), specPath);
  const rows = expandRows(spec);
  const dataDirFlags = (row: (typeof rows)[number]): string[] => {
    if (dataDir === undefined || row.dataset === 'mnist') return [];
    if (row.trainFlags.includes('--data-dir')) {
      throw new LipschitzError('INVALID_ARGUMENT', `experiment: the row ${row.id} names --data-dir in the spec and --data-dir was given too; keep one of them.`);
    }
    return ['--data-dir', dataDir];
  };
  for (const row of rows) dataDirFlags(row);
  const statePath = join(out, 'state.json');
  let state: TableState = { format: 'lipschitz-experiment-state/1', spec, rows: {} };
  if (existsSync(statePath)) {
    const previous = await readJson<TableState>(statePath, 'experiment state');
    if (JSON.stringify(previous.spec) !== JSON.stringify(spec)) {
      throw new LipschitzError(
        'ALREADY_EXISTS',
        `experiment: ${out} holds a table run with another spec. Use another --out, or restore the spec it was started with (${statePath} records it).`,
      );
    }
    state = previous;
  }
  if (dryRun) {
    for (const row of rows) log(`${row.id}: train ${[...row.trainFlags, ...dataDirFlags(row)].join(' ')} (done: ${state.rows[row.id]?.done.join(', ') || 'nothing'})`);
    return [];
  }
  await mkdir(join(out, 'runs'), { recursive: true });
  await mkdir(join(out, 'models'), { recursive: true });
  const cli = resolve(cliPath);
  const summaries: ExperimentSummaryRow[] = [];
  for (const [index, row] of rows.entries()) {
    const dir = join(out, 'runs', row.id);
    state.rows[row.id] ??= { done: [] };
    const done = state.rows[row.id].done;
    const steps: { name: string; skip?: () => Promise<boolean>; args: () => string[] }[] = [
      {
        name: 'train',
        // Interrupted after training finished but before state.json recorded it: the run is complete (a resume of a
        // finished run to the same epochs would be refused).
        skip: async () => (await readOptionalJson<{ status?: string }>(join(dir, 'summary.json')))?.status === 'finished',
        args: () => ['train', ...row.trainFlags, ...dataDirFlags(row), '--out', dir, ...(existsSync(join(dir, 'config.json')) ? ['--resume'] : [])],
      },
      // --force: a step interrupted after writing its file is run again and replaces its own result.
      { name: 'certify', args: () => ['certify', '--run', dir, ...(spec.certify ?? []), '--force'] },
      ...(spec.attacks ?? []).map((flags, k) => ({ name: `attack-${k}`, args: () => ['attack', '--run', dir, ...flags, '--force'] })),
      {
        name: 'export',
        args: () => {
          const file = join(out, 'models', `${row.id}.json`);
          // A file left by an interrupted earlier export of this very row is replaced.
          return ['export', '--run', dir, '--out', file, ...(existsSync(file) ? ['--force'] : [])];
        },
      },
      { name: 'report', args: () => ['report', '--run', dir] },
    ];
    for (const step of steps) {
      if (done.includes(step.name)) continue;
      if (step.skip && (await step.skip())) {
        log(`[${index + 1}/${rows.length}] ${row.id}: ${step.name} (already finished)`);
      } else {
        log(`[${index + 1}/${rows.length}] ${row.id}: ${step.name}`);
        await runCli(cli, step.args(), `row ${row.id}, step ${step.name}`);
      }
      done.push(step.name);
      await writeJsonAtomic(statePath, state);
    }
    summaries.push(await summarize(out, row));
    await writeJsonAtomic(join(out, 'summary.json'), { format: 'lipschitz-experiment-summary/1', name: spec.name, rows: summaries });
    await writeFileAtomic(join(out, 'summary.md'), summaryMarkdown(spec, summaries));
  }
  return summaries;
}
