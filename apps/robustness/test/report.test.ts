/**
 * What is tested (issue 17, items 2 and 7), on run directories written by hand (no training): where
 * `certify` and `attack` put each evaluation (one file per setting, the standard one under the plain name,
 * the same setting refused without --force), that `train --force` forgets a replaced run's evaluations,
 * and what the report shows: training-time accuracies when the run has no certify.json, no attack column
 * without an attack, the loss per logged step (no one-point chart), a hint instead of an empty layer table,
 * singular-value histograms with a tick and a rule at 1, named axes, one legend per chart, a strided BCOP
 * conv labelled as the user wrote it, and which images and settings each number used.
 * What is not tested here: the evaluations themselves (cli.test.ts runs the built CLI on real MNIST).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttackFile } from '../src/commands/attack';
import type { CertifyFile } from '../src/commands/certify';
import { type ReportPart, readRunFiles, reportCommand, reportParts } from '../src/commands/report';
import { assertNewEvaluation, attackFileName, certifyFileName, listEvaluations, removeEvaluations } from '../src/evaluations';
import type { ExperimentConfig } from '../src/experiment';
import { convLabel } from '../src/spectra';

const work = mkdtempSync(join(tmpdir(), 'robustness-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const config: ExperimentConfig = {
  model: 'small',
  conv: 'bcop',
  activation: 'maxmin',
  dataset: 'mnist',
  epochs: 2,
  batchSize: 128,
  lr: 1e-3,
  seed: 0,
  lossEpsilon: 1.5,
  testLimit: 500,
};

function writeRun(dir: string, files: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const metrics = [
  { epoch: 0, step: 0, lr: 1e-3, trainLoss: null, testAccuracy: 0.1, certified: { '1.58': 0, '0.3': 0.02 }, epochMs: 10, elapsedMs: 10 },
  { epoch: 1, step: 40, lr: 9.6e-4, trainLoss: 0.5, testAccuracy: 0.9412, certified: { '1.58': 0.3321, '0.3': 0.88 }, epochMs: 1000, elapsedMs: 1010 },
  { epoch: 2, step: 80, lr: 9.3e-4, trainLoss: 0.4, testAccuracy: 0.9388, certified: { '1.58': 0.34, '0.3': 0.87 }, epochMs: 1000, elapsedMs: 2010 },
]
  .map((m) => JSON.stringify(m))
  .join('\n');
const losses = Array.from({ length: 8 }, (_, i) => JSON.stringify({ step: 10 * (i + 1), epoch: i < 4 ? 1 : 2, loss: 1 - 0.1 * i })).join('\n');
const spectrum = (label: string) => ({ index: 1, label, singularValues: Array.from({ length: 64 }, (_, i) => 1 - i * 1e-7) });

function certifyFile(count: number, certified: Record<string, number>, epsilons = Object.keys(certified)): CertifyFile {
  return {
    clean: 0.95,
    certified,
    lipschitzUpperBound: 1.00004,
    layers: [],
    count,
    epsilons,
    checkpoint: 'best',
    exactProduct: 1.0000015,
    safetyFactor: 1.00004,
    curve: [
      { epsilon: 0, certified: 0.95 },
      { epsilon: 3, certified: 0 },
    ],
    empiricalLowerBound: { lipschitzLowerBound: 0.9, jacobianNormLowerBound: 0.9, pairRatioLowerBound: 0.5, images: 200 },
    spectra: [spectrum('4×4 stride 2, 1→16 (as 2×2 4→16 @ 14×14 after invertible downsampling)')],
    seconds: 1,
  };
}

function attackFile(attack: 'pgd' | 'fgsm', count: number, steps: number): AttackFile {
  return { attack, epsilon: 1.58, steps, restarts: 0, count, checkpoint: 'best', clean: 0.96, robustAccuracy: 0.7, certified: 0.4, brokenCertified: 0, brokenCertifiedIndices: [], seconds: 1 };
}

/** Every Vega-Lite unit spec (with its encoding) inside a spec. */
function units(spec: unknown): { mark: unknown; encoding: Record<string, { title?: unknown; axis?: { values?: number[] }; legend?: unknown; field?: string; datum?: unknown }> }[] {
  if (spec == null || typeof spec !== 'object') return [];
  const s = spec as Record<string, unknown>;
  return [...(s.encoding ? [s as never] : []), ...units(s.spec), ...((s.layer as unknown[]) ?? []).flatMap(units)];
}

function part(parts: ReportPart[], title: RegExp): ReportPart {
  const found = parts.find((p) => title.test(p.title));
  if (!found) throw new Error(`no part titled ${title}: ${parts.map((p) => p.title).join(', ')}`);
  return found;
}

describe('evaluation files', () => {
  it('names the standard evaluation plainly and every other setting after its settings', () => {
    expect(certifyFileName('mnist', 10000, { epsilons: ['1.58', '0.3'], count: 10000 })).toBe('certify.json');
    expect(certifyFileName('mnist', 10000, { epsilons: ['0.5', '1', '2'], count: 500 })).toBe('certify-n500-eps0.5_1_2.json');
    expect(certifyFileName('mnist', 10000, { epsilons: ['1.58', '0.3'], count: 500 })).toBe('certify-n500.json');
    expect(attackFileName('mnist', 10000, { attack: 'pgd', epsilon: '1.58', steps: 200, restarts: 0, count: 1000 })).toBe('attack-pgd.json');
    expect(attackFileName('mnist', 10000, { attack: 'pgd', epsilon: '1.58', steps: 20, restarts: 0, count: 100 })).toBe('attack-pgd-steps20-n100.json');
    expect(attackFileName('mnist', 100, { attack: 'fgsm', epsilon: '0.3', steps: 1, restarts: 0, count: 100 })).toBe('attack-fgsm-eps0.3.json');
    expect(attackFileName('mnist', 100, { attack: 'pgd', epsilon: '1.58', steps: 200, restarts: 0, count: 100 })).toBe('attack-pgd.json');
    // the decision attacks: foolbox 2.x's budgets on the first 100 test images are the standard (the reference's)
    expect(attackFileName('mnist', 10000, { attack: 'boundary', epsilon: '1.58', steps: 1, restarts: 0, count: 100, iterations: 5000 })).toBe('attack-boundary.json');
    expect(attackFileName('mnist', 50, { attack: 'boundary', epsilon: '1.58', steps: 1, restarts: 0, count: 50, iterations: 5000 })).toBe('attack-boundary.json');
    expect(attackFileName('mnist', 10000, { attack: 'boundary', epsilon: '0.3', steps: 1, restarts: 0, count: 1000, iterations: 200 })).toBe('attack-boundary-eps0.3-it200-n1000.json');
    expect(attackFileName('mnist', 10000, { attack: 'pointwise', epsilon: '1.58', steps: 1, restarts: 0, count: 100 })).toBe('attack-pointwise.json');
    expect(attackFileName('mnist', 10000, { attack: 'pointwise', epsilon: '1.58', steps: 1, restarts: 0, count: 10, maxQueries: 500 })).toBe('attack-pointwise-q500-n10.json');
    // the latest checkpoint (--checkpoint latest) never shares a file with the best one; best is the standard
    expect(certifyFileName('mnist', 10000, { epsilons: ['1.58', '0.3'], count: 10000, checkpoint: 'best' })).toBe('certify.json');
    expect(certifyFileName('mnist', 10000, { epsilons: ['1.58', '0.3'], count: 10000, checkpoint: 'latest' })).toBe('certify-latest.json');
    expect(certifyFileName('mnist', 10000, { epsilons: ['1.58', '0.3'], count: 500, checkpoint: 'latest' })).toBe('certify-n500-latest.json');
    expect(attackFileName('mnist', 10000, { attack: 'pgd', epsilon: '1.58', steps: 200, restarts: 0, count: 1000, checkpoint: 'latest' })).toBe('attack-pgd-latest.json');
    expect(attackFileName('mnist', 10000, { attack: 'fgsm', epsilon: '0.3', steps: 1, restarts: 0, count: 1000, checkpoint: 'best' })).toBe('attack-fgsm-eps0.3.json');
  });

  it('refuses to replace an evaluation with the same settings unless forced; train --force forgets them', () => {
    const dir = writeRun(join(work, 'evals'), { 'certify.json': certifyFile(500, { '1.58': 0.3, '0.3': 0.8 }), 'attack-pgd.json': attackFile('pgd', 500, 200), 'metrics.jsonl': '' });
    expect(() => assertNewEvaluation('certify', join(dir, 'certify.json'), false)).toThrow(/certify: .*certify\.json already holds an evaluation with these settings; pass --force/);
    expect(() => assertNewEvaluation('certify', join(dir, 'certify.json'), true)).not.toThrow();
    expect(() => assertNewEvaluation('certify', join(dir, 'certify-n100.json'), false)).not.toThrow();
    expect(listEvaluations(dir, 'certify').map((e) => e.file)).toEqual(['certify.json']);
    expect(listEvaluations(dir, 'attack').map((e) => e.file)).toEqual(['attack-pgd.json']);
    removeEvaluations(dir);
    expect(existsSync(join(dir, 'certify.json')) || existsSync(join(dir, 'attack-pgd.json'))).toBe(false);
    expect(existsSync(join(dir, 'metrics.jsonl'))).toBe(true);
  });
});

describe('the report', () => {
  it('without certify or attack: training-time accuracies, no attack column, a loss curve per step, a hint for the layers', async () => {
    const dir = writeRun(join(work, 'trained-only'), {
      'config.json': { experiment: config, backend: 'wasm' },
      'metrics.jsonl': metrics,
      'losses.jsonl': `${losses}\n{"step": 90, "epo`, // a line cut by a crash is ignored
      'spectra-init.json': { spectra: [spectrum('4×4 stride 2, 1→16 (as 2×2 4→16 @ 14×14 after invertible downsampling)')] },
    });
    const parts = reportParts(await readRunFiles(dir));
    const results = part(parts, /^Results$/).html;
    // The best epoch (1: 94.12 %) measured by train, and where the numbers come from.
    expect(results).toContain('<td>94.12</td>');
    expect(results).toContain('<td>33.21</td>');
    expect(results).toMatch(/measured by <code>train<\/code> after epoch 1 .* on the first 500 test images/);
    expect(results).not.toContain('PGD %');
    expect(results).not.toContain('FGSM %');
    expect(results).not.toContain('—');
    const loss = part(parts, /^Training loss$/);
    const lossUnit = units(loss.spec)[0];
    expect((loss.spec as { data: { values: unknown[] } }).data.values).toHaveLength(8);
    expect(lossUnit.encoding.x.title).toBe('optimizer step');
    expect(String(lossUnit.encoding.y.title)).toMatch(/^training loss/);
    const accuracy = part(parts, /^Accuracy during training$/);
    expect(units(accuracy.spec).filter((u) => u.encoding.color)).toHaveLength(1);
    const spectra = part(parts, /^Singular values/);
    expect(spectra.html).toMatch(/run <code>robustness certify --run DIR<\/code>/);
    expect(parts.find((p) => /Every evaluation/.test(p.title))).toBeUndefined();
  });

  it('with evaluations: says which images and settings each number used, lists every evaluation, ticks at σ = 1', async () => {
    const dir = writeRun(join(work, 'evaluated'), {
      'config.json': { experiment: config, backend: 'wasm' },
      'metrics.jsonl': metrics,
      'losses.jsonl': losses,
      'certify.json': certifyFile(500, { '1.58': 0.41, '0.3': 0.9 }),
      'certify-n100-eps0.5_1_2.json': certifyFile(100, { '0.5': 0.8, '1': 0.6, '2': 0.1 }, ['0.5', '1', '2']),
      'attack-pgd.json': attackFile('pgd', 500, 200),
      'attack-pgd-steps20-n100.json': attackFile('pgd', 100, 20),
    });
    const parts = reportParts(await readRunFiles(dir));
    const results = part(parts, /^Results$/).html;
    expect(results).toContain('PGD % (ε = 1.58)');
    expect(results).not.toContain('FGSM %');
    expect(results).toMatch(/clean and certified: <code>certify\.json<\/code>, the first 500 test images, the best checkpoint/);
    expect(results).toMatch(/PGD: <code>attack-pgd\.json<\/code>, the first 500 test images, PGD, ε = 1\.58, 200 steps, 0 restarts/);
    const evaluations = part(parts, /^Every evaluation/).html;
    for (const file of ['certify.json', 'certify-n100-eps0.5_1_2.json', 'attack-pgd.json', 'attack-pgd-steps20-n100.json']) expect(evaluations).toContain(`<td>${file}</td>`);
    expect(evaluations).toContain('<td>ε = 0.5, 1, 2</td>');
    expect(evaluations).toContain('certified@0.5 80.00 %, certified@1 60.00 %, certified@2 10.00 %');
    const spectra = part(parts, /^Singular values/);
    const layers = units(spectra.spec);
    const bars = layers.find((u) => u.mark === 'bar');
    expect(bars?.encoding.x.axis?.values).toContain(1);
    expect(bars?.encoding.x.title).toBe('singular value σ');
    expect(bars?.encoding.y.title).toBe('number of singular values');
    expect(layers.some((u) => (u.mark as { type?: string }).type === 'rule' && u.encoding.x.datum === 1)).toBe(true);
    expect(spectra.html).toContain('4×4 stride 2, 1→16 (as 2×2 4→16 @ 14×14 after invertible downsampling)');
    // No chart says "value" on an axis, and no chart has more than one legend.
    for (const p of parts) {
      for (const u of units(p.spec)) {
        for (const channel of ['x', 'y'] as const) if (u.encoding[channel]) expect(u.encoding[channel].title ?? null, `${p.title} ${channel}`).not.toBe('value');
      }
      expect(units(p.spec).filter((u) => u.encoding.color).length, p.title).toBeLessThanOrEqual(1);
    }
    const path = await reportCommand({ run: dir, quiet: true });
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('number of singular values');
    // the σ = 1 rule is drawn once per panel (one layer after training here), not once per singular value
    expect(html.match(/stroke="#b00020"/g)?.length).toBe(1);
    expect(html).not.toContain('(ε = —)');
  });

  it('labels a strided conv as the user wrote it, and a plain one by its size', () => {
    expect(convLabel([2, 2, 4, 16], [14, 14], 2)).toBe('4×4 stride 2, 1→16 (as 2×2 4→16 @ 14×14 after invertible downsampling)');
    expect(convLabel([3, 3, 1, 32], [28, 28], 1)).toBe('3×3, 1→32 @ 28×28');
  });

  it('a one-epoch run without a loss log gets no one-point chart', async () => {
    const dir = writeRun(join(work, 'one-epoch'), {
      'config.json': { experiment: { ...config, epochs: 1 } },
      'metrics.jsonl': metrics.split('\n').slice(0, 2).join('\n'),
    });
    const loss = part(reportParts(await readRunFiles(dir)), /^Training loss$/);
    expect(loss.spec).toBeUndefined();
    expect(loss.html).toMatch(/too few for a curve/);
  });
});
