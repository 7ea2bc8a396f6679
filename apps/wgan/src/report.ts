import { crc32, deflateSync } from 'node:zlib';
import { type ReportSection, htmlTable, renderHtmlReport, vegaLiteToSvg } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';

/**
 * A grayscale 8-bit PNG (color type 0, no interlace) of `width × height` bytes, row-major. Minimal encoder:
 * signature, IHDR, one zlib IDAT with filter byte 0 per row, IEND (PNG spec, ISO/IEC 15948).
 */
export function grayscalePng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  if (pixels.length !== width * height) {
    throw new LipschitzError('SHAPE_MISMATCH', `grayscalePng: ${width}×${height} needs ${width * height} pixels, got ${pixels.length}.`);
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'ascii');
    Buffer.from(data).copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) Buffer.from(pixels.subarray(y * width, (y + 1) * width)).copy(raw, y * (width + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/**
 * Tiles `count` square single-channel images (`values` row-major `[count, size, size]`, in [0, 1]) into a
 * grid PNG with `columns` columns and a 2-pixel gap, scaled up by `zoom`.
 */
export function imageGridPng(values: ArrayLike<number>, count: number, size: number, columns = 8, zoom = 2): Uint8Array {
  const rows = Math.ceil(count / columns);
  const gap = 2;
  const width = (columns * (size + gap) + gap) * zoom;
  const height = (rows * (size + gap) + gap) * zoom;
  const pixels = new Uint8Array(width * height).fill(128);
  for (let n = 0; n < count; n++) {
    const ox = (gap + (n % columns) * (size + gap)) * zoom;
    const oy = (gap + Math.floor(n / columns) * (size + gap)) * zoom;
    for (let y = 0; y < size * zoom; y++) {
      for (let x = 0; x < size * zoom; x++) {
        const v = values[n * size * size + Math.floor(y / zoom) * size + Math.floor(x / zoom)];
        pixels[(oy + y) * width + ox + x] = Math.max(0, Math.min(255, Math.round(255 * v)));
      }
    }
  }
  return grayscalePng(width, height, pixels);
}

/** One generator step's numbers in `train-gan`'s metrics. */
export interface GanMetric {
  step: number;
  epoch: number;
  /** Mean over the step's critic iterations of `mean D(real) − mean D(fake)`. */
  criticObjective: number;
  gradientPenalty: number;
  generatorLoss: number;
  seconds: number;
}

/** A saved stage of `train-gan`. */
export interface GanStage {
  name: string;
  step: number;
  epoch: number;
  file: string;
  samplesPng: string;
}

/** Renders `train-gan`'s report.html: the critic objective over training and the sample grid of each stage. */
export async function renderTrainGanReport(options: {
  config: Record<string, unknown>;
  metrics: GanMetric[];
  stages: (GanStage & { png: Uint8Array })[];
  seconds: number;
}): Promise<string> {
  const { config, metrics, stages, seconds } = options;
  const sections: ReportSection[] = [];
  sections.push({
    title: 'Settings',
    html: htmlTable(
      ['setting', 'value'],
      Object.entries(config).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    ),
  });
  if (metrics.length > 0) {
    const values = metrics.flatMap((m) => [
      { step: m.step, value: m.criticObjective, series: 'critic objective mean D(real) − mean D(fake)' },
      { step: m.step, value: m.gradientPenalty, series: 'gradient penalty (before λ)' },
      { step: m.step, value: m.generatorLoss, series: 'generator loss −mean D(G(z))' },
    ]);
    const svg = await vegaLiteToSvg({
      data: { values },
      width: 700,
      height: 260,
      mark: { type: 'line' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'generator step' },
        y: { field: 'value', type: 'quantitative', title: 'objective, penalty or loss (critic output units)', scale: { zero: false } },
        // labelLimit: the long series names must not be cut to "…" (Vega's default limit is 160 px).
        color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 600 } },
      },
    });
    sections.push({ title: 'Critic objective over training', html: svg });
  }
  sections.push({
    title: 'Samples at each saved stage',
    html: stages
      .map(
        (s) =>
          `<figure><img alt="samples ${s.name}" src="data:image/png;base64,${Buffer.from(s.png).toString('base64')}"><figcaption>${s.name}: generator step ${s.step}, epoch ${s.epoch.toFixed(2)} (${s.file})</figcaption></figure>`,
      )
      .join('\n'),
  });
  return renderHtmlReport({
    title: 'wgan train-gan: WGAN-GP generator on MNIST',
    subtitle: `${metrics.length} generator steps in ${(seconds / 60).toFixed(1)} min`,
    sections,
  });
}

/** One critic of `compare`. */
export interface CompareRow {
  conv: string;
  activation: string;
  /** Held-out estimate on fresh pairs, divided by max(1, L). */
  estimate: number;
  rawEstimate: number;
  lipschitzUpperBound: number;
  /** The critic's gap on the exact-W1 sample pair, divided by max(1, L). */
  gapOnExactSamples: number;
  withinExact: boolean;
  learningRate: number;
  steps: number;
  seconds: number;
  history: { step: number; objective: number }[];
}

/** Renders `compare`'s report.html: the Table-4 analogue, estimates beside the exact W1, objective curves. */
export async function renderCompareReport(options: { rows: CompareRow[]; exactW1: number; exactSize: number; settings: Record<string, unknown> }): Promise<string> {
  const { rows, exactW1, exactSize, settings } = options;
  const sections: ReportSection[] = [];
  sections.push({
    title: 'Table 4 on our generator',
    html: `${htmlTable(
      ['critic', 'activation', 'estimate (6,400-pair style, held out)', 'gap on exact samples', `exact W1 (n = ${exactSize})`, 'L bound', 'lr', 'steps', 'seconds'],
      rows.map((r) => [
        r.conv,
        r.activation,
        r.estimate.toFixed(4),
        r.gapOnExactSamples.toFixed(4),
        exactW1.toFixed(4),
        r.lipschitzUpperBound.toFixed(6),
        r.learningRate,
        r.steps,
        r.seconds.toFixed(0),
      ]),
    )}<p class="muted">Estimates are lower bounds on W1 up to sampling error; every gap on the exact samples must be ≤ the exact W1 of those samples (Kantorovich–Rubinstein). ${
      rows.every((r) => r.withinExact) ? 'All are.' : 'SOME ARE NOT — a soundness failure.'
    }</p>`,
  });
  if (rows.length > 0) {
    const bars = rows.map((r) => ({ critic: r.conv, activation: r.activation, estimate: r.estimate, gap: r.gapOnExactSamples }));
    const svg = await vegaLiteToSvg({
      width: 600,
      height: 260,
      layer: [
        {
          data: { values: bars },
          mark: { type: 'bar' },
          encoding: {
            x: { field: 'critic', type: 'nominal' },
            xOffset: { field: 'activation', type: 'nominal' },
            y: { field: 'estimate', type: 'quantitative', title: 'W1 estimate' },
            color: { field: 'activation', type: 'nominal', legend: { labelLimit: 600 } },
          },
        },
        {
          data: { values: [{ exact: exactW1 }] },
          mark: { type: 'rule', color: 'black', strokeDash: [6, 3] },
          encoding: { y: { field: 'exact', type: 'quantitative', title: 'W1 estimate' } },
        },
      ],
    });
    sections.push({ title: 'Estimates of each critic next to the exact W1 (dashed)', html: svg });
    const curves = rows.flatMap((r) => r.history.map((h) => ({ step: h.step, objective: h.objective, critic: `${r.conv}/${r.activation}` })));
    const curveSvg = await vegaLiteToSvg({
      data: { values: curves },
      width: 700,
      height: 260,
      mark: { type: 'line' },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'critic training step' },
        y: { field: 'objective', type: 'quantitative', title: 'mean f(real) − mean f(generated), training batch' },
        color: { field: 'critic', type: 'nominal', legend: { labelLimit: 600 } },
      },
    });
    sections.push({ title: 'Critic objective over training', html: curveSvg });
  }
  sections.push({
    title: 'Settings',
    html: htmlTable(
      ['setting', 'value'],
      Object.entries(settings).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    ),
  });
  return renderHtmlReport({ title: 'wgan compare: W1 estimates of Lipschitz critics', subtitle: `exact W1 ${exactW1.toFixed(4)} on ${exactSize} + ${exactSize} samples`, sections });
}
