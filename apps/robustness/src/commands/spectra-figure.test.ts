/**
 * What is tested: `spectra-figure` picks the N-th convolution of each run at initialisation (`spectra-init.json`) and
 * after training (`certify.json`), computes its statistics (checked against values written by hand), writes one SVG
 * with a row per run and a JSON of the values, and refuses missing files and a convolution the runs do not have
 * without writing anything.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spectraFigureCommand, spectrumStats } from './spectra-figure';

const root = mkdtempSync(join(tmpdir(), 'spectra-figure-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function run(name: string, conv: string, init: number[][], final: number[][] | null): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const spectra = (lists: number[][]) => lists.map((singularValues, i) => ({ index: 3 * i + 1, label: `3×3, 8→8 @ 14×14 (conv ${i + 1})`, singularValues }));
  writeFileSync(join(dir, 'spectra-init.json'), JSON.stringify({ spectra: spectra(init) }));
  if (final) writeFileSync(join(dir, 'certify.json'), JSON.stringify({ spectra: spectra(final) }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ experiment: { conv } }));
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ epochs: 4, best: { epoch: 3 } }));
  return dir;
}

describe('spectra-figure', () => {
  it('summarises the selected convolution of each run and writes one figure', async () => {
    const bcop = run('bcop', 'bcop', [[1, 1, 1, 1], [1, 1, 0.5, 0.5]], [[1, 1, 1, 1], [1.0000001, 1, 1, 0.999]]);
    const rko = run('rko', 'rko', [[0.9, 0.5, 0.2, 0.1], [0.8, 0.6, 0.4, 0.2]], [[0.9, 0.5, 0.2, 0.1], [0.96, 0.7, 0.3, 0.1]]);
    const out = join(root, 'figure.svg');
    const lines: string[] = [];
    const rows = await spectraFigureCommand({ runs: [bcop, rko], conv: 2, out, log: (l) => lines.push(l) });
    expect(rows.map((r) => [r.conv, r.bestEpoch, r.epochs, r.label])).toEqual([
      ['bcop', 3, 4, '3×3, 8→8 @ 14×14 (conv 2)'],
      ['rko', 3, 4, '3×3, 8→8 @ 14×14 (conv 2)'],
    ]);
    expect(rows[0].initialisation).toEqual({ count: 4, max: 1, min: 0.5, mean: 0.75, atLeast095: 0.5 });
    expect(rows[1].afterTraining.atLeast095).toBe(0.25);
    expect(rows[1].afterTraining.mean).toBeCloseTo((0.96 + 0.7 + 0.3 + 0.1) / 4, 15);
    const svg = readFileSync(out, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('BCOP: 3×3, 8→8 @ 14×14 (conv 2) — after epoch 3 of 4');
    expect(svg).toContain('RKO: 3×3, 8→8 @ 14×14 (conv 2)');
    expect(svg).toContain('initialisation');
    // the σ = 1 rule once per panel (2 runs × 2 panels), not once per singular value
    expect(svg.match(/#b00020/g)?.length).toBe(4);
    const json = JSON.parse(readFileSync(join(root, 'figure.json'), 'utf8'));
    expect(json.rows[1].singularValues.afterTraining).toEqual([0.96, 0.7, 0.3, 0.1]);
    expect(lines.at(-1)).toMatch(/^wrote .*figure\.svg/);
  });

  it('computes the statistics of a spectrum', () => {
    expect(spectrumStats([0.2, 1, 0.96])).toEqual({ count: 3, max: 1, min: 0.2, mean: (0.2 + 1 + 0.96) / 3, atLeast095: 2 / 3 });
  });

  it('refuses a run without a certification, a convolution it does not have, and a non-SVG output, writing nothing', async () => {
    const uncertified = run('uncertified', 'ossn', [[1]], null);
    const small = run('small', 'svcm', [[1]], [[1]]);
    const out = join(root, 'refused.svg');
    await expect(spectraFigureCommand({ runs: [uncertified], conv: 1, out })).rejects.toThrow(/certify\.json does not exist; run robustness certify --run/);
    await expect(spectraFigureCommand({ runs: [small], conv: 2, out })).rejects.toThrow(/--conv 2, but .* holds 1 convolution spectra; pass 1 to 1/);
    await expect(spectraFigureCommand({ runs: [small], conv: 0, out })).rejects.toThrow(/positive integer/);
    await expect(spectraFigureCommand({ runs: [], conv: 1, out })).rejects.toThrow(/at least one run/);
    await expect(spectraFigureCommand({ runs: [small], conv: 1, out: join(root, 'x.png') })).rejects.toThrow(/\.svg/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'refused.json'))).toBe(false);
  });
});
