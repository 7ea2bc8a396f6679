import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LipschitzError } from '@lipschitz/core';

/** How a zoo model is named on the command line: `--model zoo:NAME`. */
export const ZOO_PREFIX = 'zoo:';

/** The zoo's index file, `models/zoo.json` of the app package. */
export const ZOO_INDEX = 'zoo.json';

/** One model of the zoo, as `models/zoo.json` describes it. */
export interface ZooEntry {
  /** The `lipschitz-model/1` file, relative to the zoo folder. */
  file: string;
  dataset: string;
  /** What the model is and how it was trained (a protocol difference from the paper included). */
  description: string;
  /** The commands that produced it. */
  commands: string[];
  /** Size of `file` in bytes. */
  bytes: number;
  /** What `robustness certify --model zoo:NAME --test-limit <count>` gives on it (the zoo test re-checks it exactly). */
  certified: { count: number; clean: number; certified: Record<string, number>; lipschitzUpperBound: number };
}

/** `models/zoo.json`. */
export interface ZooIndex {
  format: 'lipschitz-zoo/1';
  models: Record<string, ZooEntry>;
}

/**
 * The zoo folder: `models/` of the app package, found from this module's location — `dist/cli.js` (the built CLI)
 * and `src/zoo.ts` (sources) both sit one level below the package root — or a `models/` folder beside a CLI bundle
 * copied elsewhere. `null` when neither exists.
 */
export function zooDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string | null {
  for (const dir of [join(from, '..', 'models'), join(from, 'models')]) if (existsSync(join(dir, ZOO_INDEX))) return dir;
  return null;
}

/** Reads the zoo's index. @throws LipschitzError `NOT_FOUND` when the CLI has no zoo folder, `CORRUPT_DATA` for a damaged index. */
export function readZoo(dir: string | null = zooDirectory()): { dir: string; index: ZooIndex } {
  if (dir === null) {
    throw new LipschitzError('NOT_FOUND', 'this robustness CLI has no model zoo (apps/robustness/models/zoo.json beside its dist/ folder). Pass --model FILE.json instead.');
  }
  let index: ZooIndex;
  try {
    index = JSON.parse(readFileSync(join(dir, ZOO_INDEX), 'utf8')) as ZooIndex;
  } catch (cause) {
    throw new LipschitzError('CORRUPT_DATA', `${join(dir, ZOO_INDEX)} is not valid JSON (${(cause as Error).message}); restore it from the repository.`, { cause });
  }
  if (index?.format !== 'lipschitz-zoo/1' || typeof index.models !== 'object' || index.models === null) {
    throw new LipschitzError('CORRUPT_DATA', `${join(dir, ZOO_INDEX)} is not a lipschitz-zoo/1 index; restore it from the repository.`);
  }
  return { dir, index };
}

/**
 * Resolves `zoo:NAME` to the path of the zoo's `lipschitz-model/1` file (the file itself is validated by `certify
 * --model` like any other).
 * @throws LipschitzError `INVALID_ARGUMENT` for an unknown NAME, listing the names the zoo has; what {@link readZoo}
 *   throws; `NOT_FOUND` when the index names a file that is missing.
 */
export function resolveZooModel(spec: string, dir: string | null = zooDirectory()): { name: string; path: string; entry: ZooEntry } {
  const name = spec.startsWith(ZOO_PREFIX) ? spec.slice(ZOO_PREFIX.length) : spec;
  const { dir: root, index } = readZoo(dir);
  const names = Object.keys(index.models).sort();
  const entry = Object.hasOwn(index.models, name) ? index.models[name] : undefined;
  if (!entry) {
    throw new LipschitzError('INVALID_ARGUMENT', `--model ${ZOO_PREFIX}${name}: the zoo has no model "${name}"; it has ${names.map((n) => `${ZOO_PREFIX}${n}`).join(', ') || 'none'}.`);
  }
  const path = join(root, entry.file);
  if (!existsSync(path)) throw new LipschitzError('NOT_FOUND', `the zoo model ${name} (${path}) is missing; restore apps/robustness/models/ from the repository.`);
  return { name, path, entry };
}
