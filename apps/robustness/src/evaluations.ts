import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LipschitzError } from '@lipschitz/core';
import { type DatasetName, defaultEpsilons } from './experiment';
import type { RunCheckpoint } from './run';

/**
 * Where `certify` and `attack` write their results. Every evaluation is kept: the run's standard one goes to
 * the plain name (`certify.json`, `attack-pgd.json`, `attack-fgsm.json`); any other setting to a name that
 * spells it out (`certify-n500-eps0.5_1_2.json`, `attack-pgd-eps0.3-steps20-n100.json`; `-latest` for the latest
 * checkpoint). The same setting again is refused unless `force` (a finished evaluation is never replaced unless told).
 *
 * Standard settings: certify — the dataset's paper radii (1.58, 0.3 on MNIST) on the run's test set (the
 * images `train` evaluated: `--test-limit` of the run, else the whole test set); attack — ε the first paper
 * radius, PGD 200 steps without restarts, on the first {@link STANDARD_ATTACK_IMAGES} of that test set; the
 * decision attacks (Boundary, Pointwise) with foolbox 2.x's budgets on the first {@link STANDARD_DECISION_ATTACK_IMAGES}.
 */
export const STANDARD_ATTACK_IMAGES = 1000;

/**
 * Test images of the standard Boundary / Pointwise evaluation, and their default `--test-limit`: the reference runs
 * its decision attacks on the first 100 test points only (reference-bcop.md §7).
 */
export const STANDARD_DECISION_ATTACK_IMAGES = 100;

/** The attacks of `robustness attack`: the gradient attacks of the reference and the decision attacks of its Table 3. */
export const ATTACKS = ['pgd', 'fgsm', 'boundary', 'pointwise'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** True for the decision-based attacks (Boundary, Pointwise), which need only the predicted class. */
export function isDecisionAttack(attack: AttackName): attack is 'boundary' | 'pointwise' {
  return attack === 'boundary' || attack === 'pointwise';
}

/** The Boundary attack's default iterations (foolbox 2.x `BoundaryAttack`: 5000). */
export const BOUNDARY_DEFAULT_ITERATIONS = 5000;

/** `0.5` → `0.5`, `36/255`-style or odd characters → `_`: file-name safe. */
function slug(text: string): string {
  return text.replace(/[^0-9A-Za-z.]+/g, '_');
}

/** The settings of a `certify` evaluation. */
export interface CertifySettings {
  /** The radii as the user wrote them. */
  epsilons: readonly string[];
  count: number;
  /** The checkpoint evaluated: `best` (the standard) or `latest` (named `-latest`). */
  checkpoint?: RunCheckpoint;
}

/** The settings of an `attack` evaluation. */
export interface AttackSettings {
  attack: AttackName;
  epsilon: string;
  steps: number;
  restarts: number;
  count: number;
  /** Boundary: iterations (standard {@link BOUNDARY_DEFAULT_ITERATIONS}). */
  iterations?: number;
  /** Pointwise: the cap on queries per image (standard: none, as foolbox). */
  maxQueries?: number;
  /** The checkpoint attacked: `best` (the standard) or `latest` (named `-latest`). */
  checkpoint?: RunCheckpoint;
}

/** The file name (in the run directory) of a `certify` evaluation; `runCount` is the run's test-set size. */
export function certifyFileName(dataset: DatasetName, runCount: number, settings: CertifySettings): string {
  const standard = defaultEpsilons(dataset).map((e) => e.text);
  const parts: string[] = [];
  if (settings.count !== runCount) parts.push(`n${settings.count}`);
  if (settings.epsilons.join(',') !== standard.join(',')) parts.push(`eps${settings.epsilons.map(slug).join('_')}`);
  if (settings.checkpoint === 'latest') parts.push('latest');
  return parts.length === 0 ? 'certify.json' : `certify-${parts.join('-')}.json`;
}

/** The file name (in the run directory) of an `attack` evaluation; `runCount` is the run's test-set size. */
export function attackFileName(dataset: DatasetName, runCount: number, settings: AttackSettings): string {
  const parts: string[] = [];
  if (settings.epsilon !== defaultEpsilons(dataset)[0].text) parts.push(`eps${slug(settings.epsilon)}`);
  if (settings.attack === 'pgd' && settings.steps !== 200) parts.push(`steps${settings.steps}`);
  if (settings.attack === 'pgd' && settings.restarts !== 0) parts.push(`restarts${settings.restarts}`);
  if (settings.attack === 'boundary' && settings.iterations !== undefined && settings.iterations !== BOUNDARY_DEFAULT_ITERATIONS) parts.push(`it${settings.iterations}`);
  if (settings.attack === 'pointwise' && settings.maxQueries !== undefined) parts.push(`q${settings.maxQueries}`);
  const standardCount = isDecisionAttack(settings.attack) ? STANDARD_DECISION_ATTACK_IMAGES : STANDARD_ATTACK_IMAGES;
  if (settings.count !== Math.min(standardCount, runCount)) parts.push(`n${settings.count}`);
  if (settings.checkpoint === 'latest') parts.push('latest');
  return `attack-${settings.attack}${parts.map((p) => `-${p}`).join('')}.json`;
}

/**
 * Refuses to replace an evaluation already in `path` unless `force`.
 * @throws LipschitzError `ALREADY_EXISTS` naming the file and `--force`.
 */
export function assertNewEvaluation(command: string, path: string, force: boolean): void {
  if (!force && existsSync(path)) {
    throw new LipschitzError(
      'ALREADY_EXISTS',
      `${command}: ${path} already holds an evaluation with these settings; pass --force to replace it (other settings are written to their own file).`,
    );
  }
}

/** One evaluation file of a run, parsed. */
export interface EvaluationEntry<T> {
  file: string;
  data: T;
}

function isEvaluation(kind: 'certify' | 'attack', name: string): boolean {
  return name.endsWith('.json') && (kind === 'certify' ? name === 'certify.json' || name.startsWith('certify-') : name.startsWith('attack-'));
}

/** Every `certify*.json` or `attack-*.json` of a run, sorted by name (the standard one first). */
export function listEvaluations<T>(run: string, kind: 'certify' | 'attack'): EvaluationEntry<T>[] {
  if (!existsSync(run)) return [];
  return readdirSync(run)
    .filter((name) => isEvaluation(kind, name))
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .map((file) => {
      try {
        return { file, data: JSON.parse(readFileSync(join(run, file), 'utf8')) as T };
      } catch {
        throw new LipschitzError('CORRUPT_DATA', `${join(run, file)} is not valid JSON; delete it or rerun the command that wrote it with --force.`);
      }
    });
}

/** Deletes a run's evaluation files (they describe a model that `train --force` replaces). */
export function removeEvaluations(run: string): void {
  if (!existsSync(run)) return;
  for (const name of readdirSync(run)) {
    if (isEvaluation('certify', name) || isEvaluation('attack', name)) rmSync(join(run, name), { force: true });
  }
}
