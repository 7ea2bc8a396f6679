import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type TopLevelSpec, escapeHtml, htmlTable, readJson, renderHtmlReport, vegaLiteToSvg, writeFileAtomic } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';
import { type EvaluationEntry, listEvaluations } from '../evaluations';
import { type ExperimentConfig, PAPER_RESULTS, defaultEpsilons, scheduleProtocolChange } from '../experiment';
import { type ConvSpectrum, spectrumHistogramSpec } from '../spectra';
import type { AttackFile } from './attack';
import type { CertifyFile } from './certify';
import { LOSS_LOG } from './train';

interface MetricsLine {
  epoch: number;
  step?: number;
  trainLoss: number | null;
  testAccuracy?: number;
  certified?: Record<string, number>;
  lr: number;
  epochMs: number;
}

/** Everything the report reads from a run directory. */
export interface RunFiles {
  config: ExperimentConfig;
  /** The backend the run trained on (`config.json`). */
  backend?: string;
  metrics: MetricsLine[];
  /** Logged training losses, one per logged step (deduplicated: the last line of a step wins). */
  losses: { step: number; epoch: number; loss: number }[];
  /** Every `certify*.json`, the standard `certify.json` first. */
  certifications: EvaluationEntry<CertifyFile>[];
  /** Every `attack-*.json`. */
  attacks: EvaluationEntry<AttackFile>[];
  initialSpectra: ConvSpectrum[] | null;
}

/** One part of the report: HTML, optionally preceded by a Vega-Lite chart. */
export interface ReportPart {
  title: string;
  spec?: TopLevelSpec;
  html: string;
}

function readOptional<T>(path: string): T | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

function readJsonLines<T>(path: string, tolerateTruncatedLast: boolean): T[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // An append-only log may end in a line cut by a crash; anything else is corruption.
      if (tolerateTruncatedLast && lines.slice(i + 1).every((l) => l.trim().length === 0)) return;
      throw new LipschitzError('CORRUPT_DATA', `${path} line ${i + 1} is not valid JSON.`);
    }
  });
  return out;
}

/** Reads a run directory's files for {@link reportParts}. */
export async function readRunFiles(run: string): Promise<RunFiles> {
  const configFile = await readJson<{ experiment?: ExperimentConfig; backend?: string }>(join(run, 'config.json'), 'run config');
  const config = configFile.experiment;
  if (!config) throw new LipschitzError('CORRUPT_DATA', `${join(run, 'config.json')} has no "experiment" section.`);
  const byStep = new Map<number, { step: number; epoch: number; loss: number }>();
  for (const line of readJsonLines<{ step: number; epoch: number; loss: number }>(join(run, LOSS_LOG), true)) byStep.set(line.step, line);
  return {
    config,
    backend: configFile.backend,
    metrics: readJsonLines<MetricsLine>(join(run, 'metrics.jsonl'), false),
    losses: [...byStep.values()].sort((a, b) => a.step - b.step),
    certifications: listEvaluations<CertifyFile>(run, 'certify'),
    attacks: listEvaluations<AttackFile>(run, 'attack'),
    initialSpectra: readOptional<{ spectra: ConvSpectrum[] }>(join(run, 'spectra-init.json'))?.spectra ?? null,
  };
}

const pct = (x: number | undefined | null) => (x == null || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(2)}`);
const images = (n: number) => `the first ${n.toLocaleString('en-US')} test image${n === 1 ? '' : 's'}`;

function attackSettings(a: AttackFile): string {
  switch (a.attack) {
    case 'pgd':
      return `PGD, ε = ${a.epsilon}, ${a.steps} steps, ${a.restarts} restart${a.restarts === 1 ? '' : 's'}`;
    case 'boundary':
      return `Boundary (decision-based), ε = ${a.epsilon}, ${a.iterations ?? 5000} iterations`;
    case 'pointwise':
      return `Pointwise (decision-based), ε = ${a.epsilon}, ${a.maxQueries == null ? 'no query cap' : `at most ${a.maxQueries} queries per image`}`;
    default:
      return `FGSM, ε = ${a.epsilon}`;
  }
}

/** A decision attack's median perturbation, for the list of evaluations (empty for PGD and FGSM). */
function medianText(a: AttackFile): string {
  if (a.medianPerturbation === undefined) return '';
  return `; median ‖δ‖₂ found ${a.medianPerturbation === null ? '∞' : a.medianPerturbation.toFixed(4)} (${a.perturbationsFound ?? 0} of ${a.attackedCorrect ?? 0} correct images)`;
}

/** The attack the headline shows: the standard file if present, else the one at ε with the most images. */
function headlineAttack(attacks: EvaluationEntry<AttackFile>[], kind: AttackFile['attack'], epsilon: number): EvaluationEntry<AttackFile> | undefined {
  const standard = attacks.find((a) => a.file === `attack-${kind}.json`);
  if (standard) return standard;
  return attacks.filter((a) => a.data.attack === kind && Math.abs(a.data.epsilon - epsilon) < 1e-12).sort((a, b) => b.data.count - a.data.count)[0];
}

/**
 * The report's parts, from a run's files: results (each number with the images and settings it used),
 * every evaluation kept in the run, the training loss per logged step, accuracy per epoch, certified
 * accuracy against ε, the bound against empirical lower bounds, the singular values of each convolution,
 * and the configuration. Charts are Vega-Lite specs (rendered to SVG by {@link reportCommand}).
 */
export function reportParts(files: RunFiles): ReportPart[] {
  const { config, metrics, losses, certifications, attacks } = files;
  const parts: ReportPart[] = [];
  const key = `${config.dataset}/${config.model}/${config.conv}`;
  const paper = PAPER_RESULTS[key];
  const mainEps = paper?.eps ?? defaultEpsilons(config.dataset)[0].text;
  const certify = certifications.find((c) => c.file === 'certify.json') ?? certifications[0];
  const trained = metrics.filter((m) => m.epoch > 0);
  const evaluated = metrics.filter((m) => m.testAccuracy != null);
  // The checkpoint certify/attack use: the epoch with the best test accuracy (the reference's selection).
  const best = evaluated.reduce<MetricsLine | undefined>((b, m) => (b === undefined || (m.testAccuracy ?? 0) > (b.testAccuracy ?? 0) ? m : b), undefined);
  const pgd = headlineAttack(attacks, 'pgd', Number(mainEps));
  const fgsm = headlineAttack(attacks, 'fgsm', Number(mainEps));
  const boundary = headlineAttack(attacks, 'boundary', Number(mainEps));
  const pointwise = headlineAttack(attacks, 'pointwise', Number(mainEps));
  const testCount = config.testLimit;

  const header = ['', 'clean %', `certified % (ε = ${mainEps})`];
  // A protocol change is stated next to the numbers it produced.
  const change = scheduleProtocolChange(config);
  const protocol = change === null ? '' : `, ${change}`;
  const ours: string[] = [`ours (${trained.length} epoch${trained.length === 1 ? '' : 's'}${protocol})`];
  const sources: string[] = [];
  if (certify) {
    ours.push(pct(certify.data.clean), pct(certify.data.certified[mainEps]));
    sources.push(`clean and certified: <code>${escapeHtml(certify.file)}</code>, ${images(certify.data.count)}, the ${escapeHtml(certify.data.checkpoint)} checkpoint.`);
  } else if (best) {
    ours.push(pct(best.testAccuracy), pct(best.certified?.[String(Number(mainEps))] ?? best.certified?.[mainEps]));
    sources.push(
      `clean and certified: measured by <code>train</code> after epoch ${best.epoch} (the best checkpoint) on ${testCount ? images(testCount) : 'the whole test set'}; ` +
        `run <code>robustness certify --run DIR</code> for the full certificate.`,
    );
  } else {
    ours.push('—', '—');
  }
  const paperRow: string[] = paper ? ['paper (200 epochs, mean of 5 seeds)', paper.clean.toFixed(2), paper.certified.toFixed(2)] : [];
  for (const [attack, kind] of [
    [pgd, 'PGD'],
    [fgsm, 'FGSM'],
    [boundary, 'Boundary'],
    [pointwise, 'Pointwise'],
  ] as const) {
    if (!attack) continue;
    header.push(`${kind} % (ε = ${attack.data.epsilon})`);
    ours.push(pct(attack.data.robustAccuracy));
    if (paper) paperRow.push((kind === 'PGD' ? paper.pgd : kind === 'FGSM' ? paper.fgsm : undefined)?.toFixed(2) ?? '—');
    sources.push(
      `${kind}: <code>${escapeHtml(attack.file)}</code>, ${images(attack.data.count)}, ${escapeHtml(attackSettings(attack.data))} ` +
        `(clean on those images ${pct(attack.data.clean)} %, certified examples broken: ${attack.data.brokenCertified}${escapeHtml(medianText(attack.data))}).`,
    );
  }
  parts.push({
    title: 'Results',
    html:
      htmlTable(header, paper ? [ours, paperRow] : [ours]) +
      `<p class="muted">Certified: correct and margin &gt; √2·ε·L with L the sound bound below.${pgd || fgsm ? ' PGD/FGSM: accuracy under the reference’s L2 attacks.' : ''}${boundary || pointwise ? ' Boundary/Pointwise: accuracy under the decision-based L2 attacks (foolbox 2.x’s budgets), with the median ‖δ‖₂ they found (an upper bound on the median minimal adversarial distance).' : ''}${pgd || fgsm || boundary || pointwise ? '' : ' No attack has been run: <code>robustness attack --run DIR --attack pgd --eps X</code>.'}</p>` +
      `<ul class="muted">${sources.map((s) => `<li>${s}</li>`).join('')}</ul>`,
  });

  if (certifications.length + attacks.length > 0) {
    const rows = [
      ...certifications.map((c) => [
        c.file,
        'certify',
        c.data.count,
        `ε = ${(c.data.epsilons ?? Object.keys(c.data.certified)).join(', ')}`,
        c.data.checkpoint,
        `clean ${pct(c.data.clean)} %; ${(c.data.epsilons ?? Object.keys(c.data.certified)).map((e) => `certified@${e} ${pct(c.data.certified[e])} %`).join(', ')}`,
      ]),
      ...attacks.map((a) => [
        a.file,
        a.data.attack,
        a.data.count,
        attackSettings(a.data),
        a.data.checkpoint ?? 'best',
        `robust ${pct(a.data.robustAccuracy)} % (clean ${pct(a.data.clean)} %, certified ${pct(a.data.certified)} %, broken ${a.data.brokenCertified})${medianText(a.data)}`,
      ]),
    ];
    parts.push({
      title: 'Every evaluation of this run',
      html: `${htmlTable(['file', 'what', 'test images (the first N)', 'settings', 'checkpoint', 'results'], rows)}<p class="muted">Each setting is kept in its own file; the standard ones (certify.json, attack-pgd.json, attack-fgsm.json) feed the results above.</p>`,
    });
  }

  const lossPoints = losses.length > 0 ? losses.map((l) => ({ step: l.step, loss: l.loss })) : trained.filter((m) => m.trainLoss != null).map((m) => ({ step: m.step ?? m.epoch, loss: m.trainLoss as number }));
  const perEpoch = losses.length === 0;
  if (lossPoints.length >= 2) {
    parts.push({
      title: 'Training loss',
      spec: {
        data: { values: lossPoints },
        width: 760,
        height: 240,
        mark: { type: 'line', point: lossPoints.length <= 50 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: perEpoch ? 'optimizer step (end of each epoch)' : 'optimizer step' },
          y: { field: 'loss', type: 'quantitative', title: perEpoch ? 'mean training loss of the epoch (hinge)' : 'training loss of the batch (hinge, margin √2·ε)', scale: { zero: false } },
        },
      },
      html: `<p class="muted">${perEpoch ? 'Mean loss per epoch (this run logged no per-step losses).' : `${lossPoints.length} logged steps (every ${lossPoints[1].step - lossPoints[0].step === 1 ? 'step' : `${lossPoints[1].step - lossPoints[0].step}th step`}), from <code>${LOSS_LOG}</code>.`} ${trained.length} epoch(s); mean epoch time ${(trained.reduce((s, m) => s + m.epochMs, 0) / Math.max(1, trained.length) / 1000).toFixed(1)} s.</p>`,
    });
  } else if (trained.length > 0) {
    parts.push({
      title: 'Training loss',
      html: `<p class="muted">Only ${lossPoints.length} loss value${lossPoints.length === 1 ? '' : 's'} logged (${lossPoints.map((p) => p.loss.toFixed(4)).join(', ') || 'none'}): too few for a curve.</p>`,
    });
  }

  const accuracyPoints = evaluated.flatMap((m) => [
    { epoch: m.epoch, series: 'clean (test accuracy)', accuracy: m.testAccuracy as number },
    ...Object.entries(m.certified ?? {}).map(([eps, v]) => ({ epoch: m.epoch, series: `certified at ε = ${eps}`, accuracy: v })),
  ]);
  if (evaluated.length >= 2) {
    parts.push({
      title: 'Accuracy during training',
      spec: {
        data: { values: accuracyPoints },
        width: 760,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch (0 = before training)', axis: { tickMinStep: 1 } },
          y: { field: 'accuracy', type: 'quantitative', title: `accuracy on ${testCount ? images(testCount) : 'the test set'}`, scale: { domain: [0, 1] } },
          color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 } },
        },
      },
      html: '',
    });
  }

  if (certify) {
    parts.push({
      title: 'Certified accuracy as a function of ε',
      spec: {
        data: { values: certify.data.curve },
        width: 500,
        height: 260,
        mark: 'line',
        encoding: {
          x: { field: 'epsilon', type: 'quantitative', title: 'ℓ2 radius ε' },
          y: { field: 'certified', type: 'quantitative', title: 'certified accuracy', scale: { domain: [0, 1] } },
        },
      },
      html: `<p class="muted">${escapeHtml(certify.file)}: ${images(certify.data.count)}.</p>`,
    });
    const bound = certify.data.lipschitzUpperBound;
    const lower = certify.data.empiricalLowerBound.lipschitzLowerBound;
    parts.push({
      title: 'Certified bound vs empirical lower bound',
      spec: {
        data: {
          values: [
            { what: 'certified upper bound L', value: bound },
            { what: 'empirical lower bound (gradients)', value: certify.data.empiricalLowerBound.jacobianNormLowerBound },
            { what: 'empirical lower bound (pairs)', value: certify.data.empiricalLowerBound.pairRatioLowerBound },
          ],
        },
        width: 500,
        height: 120,
        mark: 'bar',
        encoding: { y: { field: 'what', type: 'nominal', title: null, axis: { labelLimit: 320 } }, x: { field: 'value', type: 'quantitative', title: 'Lipschitz constant' } },
      },
      html: htmlTable(
        ['quantity', 'value'],
        [
          ['sound upper bound L (product of exact per-layer norms × safety factor)', bound.toPrecision(9)],
          ['product of exact per-layer norms', certify.data.exactProduct.toPrecision(9)],
          ['safety factor', certify.data.safetyFactor.toPrecision(9)],
          // old certify.json files have no floatErrorModel: they used the 1e-5-per-layer assumption
          ['float32 rounding', certify.data.floatErrorModel === 'rigorous' ? 'a proven error bound subtracted from each margin' : 'assumed ≤ 1e-5 per layer (in the safety factor)'],
          [`empirical lower bound on ${certify.data.empiricalLowerBound.images} test images`, lower.toPrecision(6)],
          ['tightness (lower / upper)', (lower / bound).toFixed(3)],
        ],
      ),
    });
  }

  const finalSpectra = certify?.data.spectra ?? [];
  const initial = files.initialSpectra ?? [];
  if (finalSpectra.length > 0 || initial.length > 0) {
    const values = [
      ...initial.flatMap((s) => s.singularValues.map((v) => ({ layer: `#${s.index} ${s.label}`, when: 'initialisation', sigma: v }))),
      ...finalSpectra.flatMap((s) => s.singularValues.map((v) => ({ layer: `#${s.index} ${s.label}`, when: 'after training', sigma: v }))),
    ];
    const rowsSv = finalSpectra.map((s) => [`#${s.index} ${s.label}`, s.singularValues[0].toPrecision(8), s.singularValues[s.singularValues.length - 1].toPrecision(6), s.singularValues.length]);
    parts.push({
      title: 'Singular values of each convolution (the paper’s Figure 2)',
      spec: spectrumHistogramSpec(values, 'layer', { yTitle: 'number of singular values', labelLimit: 520 }),
      html:
        finalSpectra.length > 0
          ? htmlTable(['layer (after training)', 'σ max', 'σ min', 'count'], rowsSv)
          : '<p class="muted">Only the spectra at initialisation so far: run <code>robustness certify --run DIR</code> to add those after training (and this table of σ max / σ min per layer).</p>',
    });
  }

  parts.push({
    title: 'Configuration',
    html: `<pre>${escapeHtml(JSON.stringify({ ...config, backend: files.backend }, null, 2))}</pre>`,
  });
  return parts;
}

/** `robustness report --run DIR`: writes DIR/report.html from the run's files; returns its path. */
export async function reportCommand({ run, quiet = false }: { run: string; quiet?: boolean }): Promise<string> {
  const files = await readRunFiles(run);
  const sections = [];
  for (const part of reportParts(files)) sections.push({ title: part.title, html: `${part.spec ? await vegaLiteToSvg(part.spec) : ''}${part.html}` });
  const { config } = files;
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
