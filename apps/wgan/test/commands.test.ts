import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareBackend } from '@lipschitz/backends';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type CompareFile, compareCommand } from '../src/commands/compare';
import { stageSchedule, trainGanCommand } from '../src/commands/train-gan';
import { Generator, type GeneratorCheckpoint } from '../src/gan/generator';
import { buildCli, runCli } from './cli-bundle';

const allFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));

describe('wgan train-gan and compare (wasm, tiny)', () => {
  const root = mkdtempSync(join(tmpdir(), 'wgan-test-'));
  const gan = join(root, 'gan');
  const tiny = { dataset: 'mnist' as const, epochs: 1, out: gan, steps: 2, trainLimit: 64, nCritic: 1, hidden: 2, criticWidth: 2, backend: 'wasm' as const, quiet: true };

  beforeAll(async () => {
    await prepareBackend('wasm');
    await trainGanCommand(tiny);
  });

  it('schedules stages after epoch 1 / early, mid and final, without duplicates', () => {
    expect(stageSchedule(300, 187, false)).toEqual([
      { name: 'early', step: 30 },
      { name: 'mid', step: 150 },
      { name: 'final', step: 300 },
    ]);
    expect(stageSchedule(1000, 187, true)[0]).toEqual({ name: 'epoch-1', step: 187 });
    expect(stageSchedule(2, 187, false)).toEqual([
      { name: 'early', step: 1 },
      { name: 'final', step: 2 },
    ]);
  });

  it('train-gan writes its checkpoints, samples, report and summary atomically (no temporary files) and refuses to overwrite', async () => {
    const files = allFiles(gan).map((f) => f.slice(gan.length + 1)).sort();
    expect(files).toEqual(['config.json', 'generators/early.json', 'generators/final.json', 'metrics.json', 'report.html', 'samples/early.png', 'samples/final.png', 'summary.json']);
    const summary = JSON.parse(readFileSync(join(gan, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'finished', generatorSteps: 2, criticIterations: 2 });
    const checkpoint = JSON.parse(readFileSync(join(gan, 'generators', 'final.json'), 'utf8')) as GeneratorCheckpoint;
    const g = Generator.fromCheckpoint(checkpoint);
    expect(g.config.hidden).toBe(2);
    g.dispose();
    expect([...readFileSync(join(gan, 'samples', 'final.png')).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(readFileSync(join(gan, 'report.html'), 'utf8')).toMatch(/<svg[\s\S]*data:image\/png;base64/);
    await expect(trainGanCommand(tiny)).rejects.toThrow(/holds a finished GAN run; pass --force/);
    await expect(trainGanCommand({ ...tiny, out: join(root, 'small'), trainLimit: 10 })).rejects.toThrow(/--train-limit 10 is smaller than the batch size 64/);
  });

  it('compare writes compare.json whose critic gaps on the exact samples do not exceed the exact W1, and a report', async () => {
    const out = join(root, 'compare');
    const options = { gan, out, critics: ['rko' as const, 'ossn' as const], activations: ['maxmin' as const], steps: 3, pairs: 64, exactSize: 40, width: 2, stage: 'final', seed: 0, backend: 'wasm' as const, quiet: true };
    const result = await compareCommand(options);
    const file = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as CompareFile;
    expect(file.status).toBe('finished');
    expect(file.rows.map((r) => `${r.conv}/${r.activation}`)).toEqual(['rko/maxmin', 'ossn/maxmin']);
    expect(file.exactW1).toBeCloseTo(result.exactW1, 12);
    expect(file.exactW1).toBeGreaterThan(0);
    for (const row of file.rows) {
      expect(Number.isFinite(row.estimate)).toBe(true);
      expect(row.lipschitzUpperBound).toBeGreaterThan(0);
      expect(row.gapOnExactSamples).toBeLessThanOrEqual(file.exactW1);
      expect(row.withinExact).toBe(true);
    }
    expect(file.claims.bcopOverRkoOverOssn.maxmin).toBeNull(); // bcop did not run
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/exact W1[\s\S]*<svg/);
    expect(allFiles(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    await expect(compareCommand(options)).rejects.toThrow(/holds a finished comparison; pass --force/);
    await expect(compareCommand({ ...options, gan: join(root, 'missing') })).rejects.toThrow(/--gan .*missing does not exist; train a generator first/);
    await expect(compareCommand({ ...options, force: true, stage: 'nope' })).rejects.toThrow(/has no generators\/nope.json/);
  });

  it('train-gan records the backend it used (not "auto") and its report shows whole legend labels', async () => {
    const out = join(root, 'auto');
    // Not quiet: it says where its report is.
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await trainGanCommand({ ...tiny, out, backend: 'auto', quiet: false });
    } finally {
      stdout.mockRestore();
    }
    expect(written.join('')).toContain(`report: ${join(out, 'report.html')}\n`);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.backendRequested).toBe('auto');
    expect(config.backend).toBe('wasm');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<td>backend</td><td>wasm</td>');
    for (const label of ['critic objective mean D(real) − mean D(fake)', 'generator loss −mean D(G(z))']) expect(html).toContain(`>${label}</text>`);
    expect(html).not.toMatch(/…<\/text>/);
  });

  it('the built CLI lists the new commands and fails with one line on a missing --gan directory or an unknown critic', async () => {
    const cli = await buildCli();
    const version = runCli(cli, ['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^wgan \d+\.\d+\.\d+ \(@tensorflow\/tfjs-core 4\.22\.\d+\)$/);
    // Usage errors exit 2, as in robustness: a missing required option like a bad value.
    const noGan = runCli(cli, ['compare', '--out', join(root, 'x')]);
    expect(noGan.code).toBe(2);
    expect(noGan.stderr.trim()).toBe("wgan: required option '--gan <dir>' not specified");

    const help = runCli(cli, ['--help']);
    expect(help.stdout).toMatch(/train-gan/);
    expect(help.stdout).toMatch(/compare/);
    const missing = runCli(cli, ['compare', '--gan', join(root, 'nothing-here'), '--out', join(root, 'x')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/^wgan: --gan .*nothing-here does not exist/);
    const unknown = runCli(cli, ['compare', '--gan', gan, '--out', join(root, 'y'), '--critics', 'bcop,svd']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe('wgan: --critics must be one of bcop, rko, ossn, cayley, got "svd".');
    const badSteps = runCli(cli, ['train-gan', '--out', join(root, 'z'), '--steps', '0']);
    expect(badSteps.code).toBe(2);
    expect(badSteps.stderr.trim()).toBe('wgan: --steps must be a positive integer, got "0".');
    expect(existsSync(join(root, 'y'))).toBe(false);
  });
});
