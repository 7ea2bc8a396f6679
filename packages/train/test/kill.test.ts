import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBundleOptions } from '@lipschitz/backends/bundling';
import { describeBackends } from '@lipschitz/test-utils';
import { build } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { openRunDirectory, train } from '../src';
import { blobs, hingeLoss, reproducible, snapshot, tinyModel } from './fixtures';
import { ossnData, ossnNetwork } from './ossn-fixtures';

const work = mkdtempSync(join(tmpdir(), 'lipschitz-train-kill-'));
let bundled: Promise<string> | null = null;
const child = () => {
  bundled ??= bundleChild();
  return bundled;
};
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Bundles child-train.ts for plain Node with the backends package's recipe (one tfjs-core copy, gradients registered). */
async function bundleChild(): Promise<string> {
  const outfile = join(work, 'child-train.mjs');
  await build({
    ...nodeBundleOptions(),
    entryPoints: [join(import.meta.dirname, 'child-train.ts')],
    outfile,
    conditions: ['@lipschitz/source'],
    logLevel: 'error',
  });
  return outfile;
}

/** Starts the child, kills it with SIGKILL right after its first checkpoint past step 0. */
function runAndKill(script: string, dir: string, variant = 'tiny'): Promise<{ signal: NodeJS.Signals | null; stdout: string; killedAfter: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, dir, variant], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killedAfter = -1;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /checkpoint ([1-9]\d*)\n/.exec(stdout);
      if (match && killedAfter < 0) {
        killedAfter = Number(match[1]);
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal == null) reject(new Error(`child exited with code ${code} before it was killed:\n${stdout}\n${stderr}`));
      else resolve({ signal, stdout, killedAfter });
    });
  });
}

const settings = {
  trainSet: blobs(150, { seed: 1 }),
  testSet: blobs(60, { seed: 2 }),
  loss: hingeLoss(),
  optimizer: { kind: 'adam', learningRate: 0.02 } as const,
  epochs: 4,
  batchSize: 32,
  seed: 5,
  epsilons: [0.05],
  checkpointEvery: 3,
  restoreBest: false,
};

describeBackends(
  'train: kill -9 and resume',
  () => {
    it('a run killed with SIGKILL after a checkpoint resumes to the uninterrupted result, bit for bit', async () => {
      const script = await child();
      const dir = join(work, 'run');
      const { signal, stdout, killedAfter } = await runAndKill(script, dir);
      expect(signal).toBe('SIGKILL');
      expect(stdout).not.toMatch(/done/);
      const latest = await (await openRunDirectory(dir)).loadCheckpoint('latest');
      const killedAt = latest?.manifest.meta as { step: number; epoch: number };
      expect(killedAt.step).toBeGreaterThanOrEqual(killedAfter);
      expect(killedAt.step).toBeLessThan(4 * 5);

      const straight = tinyModel({ seed: 3 });
      const full = await train({ ...settings, model: straight });
      const resumedModel = tinyModel({ seed: 42 });
      const resumed = await train({ ...settings, model: resumedModel, runDir: dir, resume: true });
      expect(resumed.status).toBe('finished');
      expect(await snapshot(resumedModel)).toEqual(await snapshot(straight));
      expect(reproducible(resumed.history)).toEqual(reproducible(full.history));
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(reproducible(lines)).toEqual(reproducible(full.history));
      straight.dispose();
      resumedModel.dispose();
    });

    it('an OSSN run killed with SIGKILL resumes bit for bit, its power-iteration state included', async () => {
      const script = await child();
      const dir = join(work, 'ossn-run');
      const { signal, stdout, killedAfter } = await runAndKill(script, dir, 'ossn');
      expect(signal).toBe('SIGKILL');
      expect(stdout).not.toMatch(/done/);
      const latest = await (await openRunDirectory(dir)).loadCheckpoint('latest');
      const killedAt = latest?.manifest.meta as { step: number };
      expect(killedAt.step).toBeGreaterThanOrEqual(killedAfter);
      expect(killedAt.step).toBeLessThan(3 * 4);

      const ossnSettings = {
        ...ossnData(),
        loss: hingeLoss(),
        optimizer: { kind: 'adam', learningRate: 0.05 } as const,
        epochs: 3,
        batchSize: 16,
        seed: 6,
        epsilons: [0.05],
        checkpointEvery: 3,
        restoreBest: false,
      };
      const straight = ossnNetwork();
      const full = await train({ ...ossnSettings, model: straight });
      const resumedModel = ossnNetwork();
      const resumed = await train({ ...ossnSettings, model: resumedModel, runDir: dir, resume: true });
      expect(resumed.status).toBe('finished');
      const all = (model: typeof straight) => Promise.all([...model.trainableVariables, ...model.stateVariables].map(async (v) => Array.from(await v.data())));
      expect(straight.stateVariables).toHaveLength(2);
      expect(await all(resumedModel)).toEqual(await all(straight));
      expect(reproducible(resumed.history)).toEqual(reproducible(full.history));
      straight.dispose();
      resumedModel.dispose();
    });
  },
  ['cpu'],
);
