import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type TopLevelSpec, readJson, vegaLiteToSvg, writeFileAtomic, writeJsonAtomic } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';
import { type ConvSpectrum, spectrumHistogramSpec } from '../spectra';

/** Summary statistics of one spectrum in the figure. */
export interface SpectrumStats {
  count: number;
  max: number;
  min: number;
  mean: number;
  /** Fraction of the singular values ≥ 0.95: 1 for a gradient-norm-preserving (orthogonal) convolution. */
  atLeast095: number;
}

/** One run's panel pair in the figure (`DIR.json` beside the SVG holds these, with the singular values). */
export interface SpectraFigureRow {
  run: string;
  /** `bcop`, `rko`, … (`config.json`'s `experiment.conv`). */
  conv: string;
  /** The selected convolution's label (`3×3, 32→32 @ 14×14`). */
  label: string;
  /** Epoch of the checkpoint `certify` measured (the best), and the epochs trained. */
  bestEpoch: number | null;
  epochs: number | null;
  initialisation: SpectrumStats;
  afterTraining: SpectrumStats;
}

/** The statistics of a list of singular values (count, max, min, mean, fraction ≥ 0.95). */
export function spectrumStats(values: readonly number[]): SpectrumStats {
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  let high = 0;
  for (const v of values) {
    max = Math.max(max, v);
    min = Math.min(min, v);
    sum += v;
    if (v >= 0.95) high++;
  }
  return { count: values.length, max, min, mean: sum / values.length, atLeast095: high / values.length };
}

function pick(spectra: ConvSpectrum[], conv: number, where: string): ConvSpectrum {
  if (conv > spectra.length) {
    throw new LipschitzError('INVALID_ARGUMENT', `spectra-figure: --conv ${conv}, but ${where} holds ${spectra.length} convolution spectra; pass 1 to ${spectra.length}.`);
  }
  return spectra[conv - 1];
}

/**
 * `robustness spectra-figure --runs DIR… --conv N --out FILE.svg`: the paper's Figure 2 — histograms of the singular
 * values of the N-th convolution (1-based, in layer order) of each run, at initialisation (`spectra-init.json`, written
 * by `train`) and after training (`certify.json`'s spectra, of the checkpoint `certify` measured), one row of two
 * panels per run, in one SVG; `FILE.json` beside it holds the values and their statistics (max, min, mean, fraction
 * ≥ 0.95). The runs may come from different experiments; each row's label says its conv type and epochs.
 *
 * Throws `INVALID_ARGUMENT` for no runs or a bad `conv`, `NOT_FOUND` for a run without `spectra-init.json` or without a
 * certification (run `robustness certify --run DIR` first). Writes atomically; nothing is written on an error.
 * @see Li et al. 2019, Figure 2 (the Large network's second convolution, BCOP / RKO / OSSN / SVCM).
 */
export async function spectraFigureCommand({ runs, conv, out, log = () => {} }: { runs: string[]; conv: number; out: string; log?: (line: string) => void }): Promise<SpectraFigureRow[]> {
  if (runs.length === 0) throw new LipschitzError('INVALID_ARGUMENT', 'spectra-figure: give at least one run directory with --runs.');
  if (!Number.isInteger(conv) || conv < 1) throw new LipschitzError('INVALID_ARGUMENT', `spectra-figure: --conv must be a positive integer (1 = the first convolution), got ${conv}.`);
  if (!out.endsWith('.svg')) throw new LipschitzError('INVALID_ARGUMENT', `spectra-figure: --out must name an .svg file, got ${out}.`);
  const rows: (SpectraFigureRow & { init: number[]; final: number[] })[] = [];
  for (const run of runs) {
    const initPath = join(run, 'spectra-init.json');
    const certifyPath = join(run, 'certify.json');
    if (!existsSync(initPath)) throw new LipschitzError('NOT_FOUND', `spectra-figure: ${initPath} does not exist; it is written by robustness train when a run starts.`);
    if (!existsSync(certifyPath)) throw new LipschitzError('NOT_FOUND', `spectra-figure: ${certifyPath} does not exist; run robustness certify --run ${run} first.`);
    const init = pick((await readJson<{ spectra: ConvSpectrum[] }>(initPath, 'spectra')).spectra ?? [], conv, initPath);
    const final = pick((await readJson<{ spectra?: ConvSpectrum[] }>(certifyPath, 'certify file')).spectra ?? [], conv, certifyPath);
    const config = existsSync(join(run, 'config.json')) ? await readJson<{ experiment?: { conv?: string } }>(join(run, 'config.json'), 'run config') : {};
    const summary = existsSync(join(run, 'summary.json')) ? await readJson<{ epochs?: number; best?: { epoch?: number } }>(join(run, 'summary.json'), 'run summary') : {};
    rows.push({
      run: resolve(run),
      conv: config.experiment?.conv ?? basename(resolve(run)),
      label: final.label,
      bestEpoch: summary.best?.epoch ?? null,
      epochs: summary.epochs ?? null,
      initialisation: spectrumStats(init.singularValues),
      afterTraining: spectrumStats(final.singularValues),
      init: init.singularValues,
      final: final.singularValues,
    });
  }
  const rowName = (r: SpectraFigureRow) => `${r.conv.toUpperCase()}: ${r.label}${r.bestEpoch === null ? '' : ` — after epoch ${r.bestEpoch} of ${r.epochs}`}`;
  const values = rows.flatMap((r) => [
    ...r.init.map((sigma) => ({ run: rowName(r), when: 'initialisation', sigma })),
    ...r.final.map((sigma) => ({ run: rowName(r), when: 'after training', sigma })),
  ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Singular values of convolution ${conv} (the paper's Figure 2)`,
    ...spectrumHistogramSpec(values, 'run', { yTitle: 'count', rowOrder: rows.map(rowName), labelLimit: 640 }),
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
  const svg = await vegaLiteToSvg(spec);
  const result = rows.map(({ init, final, ...row }) => row);
  await writeJsonAtomic(out.replace(/\.svg$/, '.json'), { format: 'lipschitz-spectra-figure/1', conv, rows: rows.map(({ init, final, ...row }) => ({ ...row, singularValues: { initialisation: init, afterTraining: final } })) }, 'spectra-figure');
  await writeFileAtomic(out, svg);
  for (const r of result) {
    log(
      `${rowName(r)}: σ ∈ [${r.initialisation.min.toFixed(3)}, ${r.initialisation.max.toFixed(4)}] at initialisation, [${r.afterTraining.min.toFixed(3)}, ${r.afterTraining.max.toFixed(4)}] after training (mean ${r.afterTraining.mean.toFixed(3)}, ${(100 * r.afterTraining.atLeast095).toFixed(1)}% ≥ 0.95)`,
    );
  }
  log(`wrote ${resolve(out)} and ${resolve(out.replace(/\.svg$/, '.json'))}`);
  return result;
}
