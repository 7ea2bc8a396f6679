import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { htmlTable, readJson, renderHtmlReport, type ReportSection, vegaLiteToSvg, writeFileAtomic } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';
import { type ExperimentConfig, PAPER_RESULTS } from '../experiment';
import type { ConvSpectrum } from '../spectra';
import type { AttackFile } from './attack';
import type { CertifyFile } from './certify';

interface MetricsLine {
  epoch: number;
  trainLoss: number | null;
  testAccuracy?: number;
  certified?: Record<string, number>;
  lr: number;
  epochMs: number;
}

function readOptional<T>(path: string): T | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

const pct = (x: number | undefined | null) => (x == null || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(2)}`);

/** `robustness report --run DIR`: writes DIR/report.html from the run's files; returns its path. */
export async function reportCommand({ run, quiet = false }: { run: string; quiet?: boolean }): Promise<string> {
  const configFile = await readJson<{ experiment?: ExperimentConfig; backend?: string }>(join(run, 'config.json'), 'run config');
  const config = configFile.experiment;
  if (!config) throw new LipschitzError('CORRUPT_DATA', `${join(run, 'config.json')} has no "experiment" section.`);
  const metricsPath = join(run, 'metrics.jsonl');
  const metrics: MetricsLine[] = existsSync(metricsPath)
    ? readFileSync(metricsPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l, i) => {
          try {
            return JSON.parse(l) as MetricsLine;
          } catch {
            throw new LipschitzError('CORRUPT_DATA', `${metricsPath} line ${i + 1} is not valid JSON.`);
          }
        })
    : [];
  const certify = readOptional<CertifyFile>(join(run, 'certify.json'));
  const pgd = readOptional<AttackFile>(join(run, 'attack-pgd.json'));
  const fgsm = readOptional<AttackFile>(join(run, 'attack-fgsm.json'));
  const initial = readOptional<{ spectra: ConvSpectrum[] }>(join(run, 'spectra-init.json'));
  const sections: ReportSection[] = [];

  const key = `${config.dataset}/${config.model}/${config.conv}`;
  const paper = PAPER_RESULTS[key];
  const mainEps = paper?.eps ?? Object.keys(certify?.certified ?? {})[0];
  const epochsDone = metrics.filter((m) => m.epoch > 0).length;
  const rows: (string | number)[][] = [
    [
      `ours (${epochsDone} epoch${epochsDone === 1 ? '' : 's'})`,
      pct(certify?.clean),
      pct(mainEps ? certify?.certified[mainEps] : undefined),
      pct(pgd?.robustAccuracy),
      pct(fgsm?.robustAccuracy),
    ],
  ];
  if (paper) rows.push(['paper (200 epochs, mean of 5 seeds)', paper.clean.toFixed(2), paper.certified.toFixed(2), paper.pgd?.toFixed(2) ?? '—', paper.fgsm?.toFixed(2) ?? '—']);
  sections.push({
    title: 'Results',
    html:
      htmlTable(['', 'clean %', `certified % (ε = ${mainEps ?? '?'})`, `PGD % (ε = ${pgd?.epsilon ?? '—'})`, `FGSM % (ε = ${fgsm?.epsilon ?? '—'})`], rows) +
      `<p class="muted">Certified: correct and margin &gt; √2·ε·L with L the sound bound below. PGD/FGSM: accuracy under the reference's L2 attacks` +
      `${pgd ? ` on ${pgd.count} test images (certified examples broken: ${pgd.brokenCertified})` : ''}.</p>`,
  });

  const trained = metrics.filter((m) => m.epoch > 0);
  if (metrics.length > 0) {
    const values = metrics.flatMap((m) => [
      ...(m.trainLoss != null ? [{ epoch: m.epoch, series: 'train loss', value: m.trainLoss, panel: 'loss' }] : []),
      ...(m.testAccuracy != null ? [{ epoch: m.epoch, series: 'test accuracy', value: m.testAccuracy, panel: 'accuracy' }] : []),
      ...Object.entries(m.certified ?? {}).map(([eps, v]) => ({ epoch: m.epoch, series: `certified ε=${eps}`, value: v, panel: 'accuracy' })),
    ]);
    const svg = await vegaLiteToSvg({
      data: { values },
      facet: { column: { field: 'panel', type: 'nominal', title: null } },
      spec: {
        width: 380,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative', scale: { zero: false } },
          color: { field: 'series', type: 'nominal' },
        },
      },
      resolve: { scale: { y: 'independent' } },
    });
    sections.push({
      title: 'Training curves',
      html: `${svg}<p class="muted">${trained.length} epoch(s); mean epoch time ${(trained.reduce((s, m) => s + m.epochMs, 0) / Math.max(1, trained.length) / 1000).toFixed(1)} s.</p>`,
    });
  }

  if (certify) {
    const svg = await vegaLiteToSvg({
      data: { values: certify.curve },
      width: 500,
      height: 260,
      mark: 'line',
      encoding: {
        x: { field: 'epsilon', type: 'quantitative', title: 'ℓ2 radius ε' },
        y: { field: 'certified', type: 'quantitative', title: 'certified accuracy', scale: { domain: [0, 1] } },
      },
    });
    sections.push({ title: 'Certified accuracy as a function of ε', html: svg });
    const bound = certify.lipschitzUpperBound;
    const lower = certify.empiricalLowerBound.lipschitzLowerBound;
    const boundsSvg = await vegaLiteToSvg({
      data: {
        values: [
          { what: 'certified upper bound L', value: bound },
          { what: 'empirical lower bound (gradients)', value: certify.empiricalLowerBound.jacobianNormLowerBound },
          { what: 'empirical lower bound (pairs)', value: certify.empiricalLowerBound.pairRatioLowerBound },
        ],
      },
      width: 500,
      height: 120,
      mark: 'bar',
      encoding: { y: { field: 'what', type: 'nominal', title: null, axis: { labelLimit: 320 } }, x: { field: 'value', type: 'quantitative', title: 'Lipschitz constant' } },
    });
    sections.push({
      title: 'Certified bound vs empirical lower bound',
      html:
        boundsSvg +
        htmlTable(
          ['quantity', 'value'],
          [
            ['sound upper bound L (product of exact per-layer norms × safety factor)', bound.toPrecision(9)],
            ['product of exact per-layer norms', certify.exactProduct.toPrecision(9)],
            ['safety factor', certify.safetyFactor.toPrecision(9)],
            // old certify.json files have no floatErrorModel: they used the 1e-5-per-layer assumption
            ['float32 rounding', certify.floatErrorModel === 'rigorous' ? 'a proven error bound subtracted from each margin' : 'assumed ≤ 1e-5 per layer (in the safety factor)'],
            [`empirical lower bound on ${certify.empiricalLowerBound.images} test images`, lower.toPrecision(6)],
            ['tightness (lower / upper)', (lower / bound).toFixed(3)],
          ],
        ),
    });
  }

  const finalSpectra = certify?.spectra ?? [];
  if (finalSpectra.length > 0 || (initial?.spectra.length ?? 0) > 0) {
    const values = [
      ...(initial?.spectra ?? []).flatMap((s) => s.singularValues.map((v) => ({ layer: `#${s.index} ${s.label}`, when: 'initialisation', sigma: v }))),
      ...finalSpectra.flatMap((s) => s.singularValues.map((v) => ({ layer: `#${s.index} ${s.label}`, when: 'after training', sigma: v }))),
    ];
    const svg = await vegaLiteToSvg({
      data: { values },
      facet: { row: { field: 'layer', type: 'nominal', title: null }, column: { field: 'when', type: 'nominal', title: null, sort: ['initialisation', 'after training'] } },
      spec: {
        width: 300,
        height: 110,
        mark: 'bar',
        encoding: {
          x: { field: 'sigma', type: 'quantitative', bin: { step: 0.02, extent: [-0.01, 1.09], nice: false }, title: 'singular value' },
          y: { aggregate: 'count', type: 'quantitative', title: 'count' },
        },
      },
    });
    const rowsSv = finalSpectra.map((s) => [
      `#${s.index} ${s.label}`,
      s.singularValues[0].toPrecision(8),
      s.singularValues[s.singularValues.length - 1].toPrecision(6),
      s.singularValues.length,
    ]);
    sections.push({
      title: 'Singular values of each convolution (the paper’s Figure 2)',
      html: `${svg}${htmlTable(['layer (after training)', 'σ max', 'σ min', 'count'], rowsSv)}`,
    });
  }

  sections.push({
    title: 'Configuration',
    html: `<pre>${JSON.stringify({ ...config, backend: configFile.backend }, null, 2).replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string)}</pre>`,
  });
  const html = renderHtmlReport({
    title: `${config.dataset} · ${config.model} · ${config.conv} · ${config.activation}`,
    subtitle: `lipschitz robustness report, ${new Date().toISOString()}`,
    sections,
  });
  const path = join(run, 'report.html');
  await writeFileAtomic(path, html);
  if (!quiet) process.stdout.write(`report: ${resolve(path)}\n`);
  return resolve(path);
}
