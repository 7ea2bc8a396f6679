#!/usr/bin/env node
// The paper's Tables 1–3 and the CIFAR-10 row from the committed `robustness experiment` results (issue 18):
// reads bench/results/experiments/<table>/summary.json (and the attack files of each row's run folder), puts the
// paper's numbers beside ours, and writes bench/results/experiments/paper-tables.md.
//   node bench/scripts/paper-tables.mjs [--out FILE.md]
// Every number comes from a file; a row whose files are missing is listed as "not run".
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'experiments');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'paper-tables.md') } } });

/** The paper's numbers (reference-bcop.md §9: mean ± std over 5 seeds where it gives one, 200 epochs, official data). */
const PAPER = {
  'mnist/small/bcop': { cleanAllowance: 0.3, clean: 97.54, cleanSd: 0.06, certified: 45.84, certifiedSd: 0.9 },
  'mnist/small/rko': { cleanAllowance: 0.3, clean: 97.28, certified: 43.58 },
  'mnist/small/ossn': { cleanAllowance: 0.3, clean: 96.86, certified: 42.95 },
  'mnist/small/svcm': { cleanAllowance: 0.3, clean: 97.24, certified: 28.94 },
  'mnist/large/bcop': { clean: 98.77, cleanSd: 0.05, certified: 56.66, certifiedSd: 0.23 },
  'mnist/fc3/bcop': { clean: 98.71, certified: 54.46 },
  'cifar10/small/bcop': { clean: 64.53, cleanSd: 0.3, certified: 50.01, certifiedSd: 0.21 },
};
const withSd = (x, sd) => (sd === undefined ? x.toFixed(2) : `${x.toFixed(2)} ± ${sd.toFixed(2)}`);
const paperCell = (k) => (PAPER[k] ? `${withSd(PAPER[k].clean, PAPER[k].cleanSd)} / ${withSd(PAPER[k].certified, PAPER[k].certifiedSd)}` : '—');
/**
 * Issue 18's target for a row: clean ≥ the paper's mean clean (− 0.3 for the Small rows, `cleanAllowance`; the
 * issue sets the Large target at the paper's 98.77 / 56.66 itself) and certified ≥ its mean certified accuracy (both in
 * %, against the mean over the row's seeds): "met", or how many points each part is short.
 */
function targetCell(k, clean, certified) {
  const paper = PAPER[k];
  if (!paper) return '—';
  const short = [];
  const cleanGap = paper.clean - (paper.cleanAllowance ?? 0) - clean;
  const certifiedGap = paper.certified - certified;
  if (cleanGap > 1e-9) short.push(`clean ${cleanGap.toFixed(2)} short`);
  if (certifiedGap > 1e-9) short.push(`certified ${certifiedGap.toFixed(2)} short`);
  return short.length === 0 ? '**met**' : short.join(', ');
}
const PAPER_ATTACKS = { 'mnist/large/bcop': 'PGD 86.86, FGSM 86.93', 'cifar10/small/bcop': 'PGD 51.26, FGSM 51.57' };

/** Every row of every committed table, with the folder it came from. */
function loadRows() {
  const rows = [];
  for (const table of readdirSync(ROOT)) {
    const path = join(ROOT, table, 'summary.json');
    if (!existsSync(path)) continue;
    const summary = JSON.parse(readFileSync(path, 'utf8'));
    if (summary.format !== 'lipschitz-experiment-summary/1') continue;
    for (const row of summary.rows) {
      const dir = join(ROOT, table, 'runs', row.id);
      rows.push({ ...row, schedule: protocolOf(row), table, attacks: attacksOf(dir, row.attacks), last: lastEpochOf(dir) });
    }
  }
  return rows;
}

/** The row's schedule, and the retraction's Newton–Schulz steps where the row set them (the default is 2). */
function protocolOf(row) {
  const flags = row.trainFlags ?? [];
  const at = flags.indexOf('--retraction-steps');
  if (at < 0) return row.schedule;
  const steps = Number(flags[at + 1]);
  return `${row.schedule}, ${steps} retraction step${steps === 1 ? '' : 's'}`;
}

/**
 * The last epoch's evaluation of a run (its `summary.json`'s `last`: the same float-sound clean / certified accuracy on
 * all test images that `train` logs every epoch), or null where the folder has none.
 */
function lastEpochOf(dir) {
  const path = join(dir, 'summary.json');
  if (!existsSync(path)) return null;
  const last = JSON.parse(readFileSync(path, 'utf8')).last;
  return last?.testAccuracy === undefined ? null : { epoch: last.epoch, clean: last.testAccuracy, certified: last.certified };
}

/** The attack files of a run folder (also those run after the table's summary was written). */
function attacksOf(dir, fromSummary) {
  if (!existsSync(dir)) return fromSummary;
  return readdirSync(dir)
    .filter((f) => /^attack-.*\.json$/.test(f))
    .sort()
    .map((file) => {
      const a = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      return { file, attack: a.attack, epsilon: a.epsilon, count: a.count, robustAccuracy: a.robustAccuracy, brokenCertified: a.brokenCertified, medianPerturbation: a.medianPerturbation, iterations: a.iterations };
    });
}

const pct = (x) => (x === null || x === undefined ? '—' : (100 * x).toFixed(2));
const key = (r) => `${r.dataset}/${r.model}/${r.conv}`;
const certifiedAt = (r) => r.certified[r.dataset === 'cifar10' ? '0.1411764706' : '1.58'] ?? r.certified[Object.keys(r.certified)[0]];
const broken = (r) => r.attacks.reduce((s, a) => s + a.brokenCertified, 0);
const attack = (r, name) => r.attacks.find((a) => a.attack === name);
const attackCell = (a) => {
  if (!a) return '—';
  const median = a.medianPerturbation === undefined ? '' : `, median ‖δ‖ ${a.medianPerturbation === null ? '∞' : a.medianPerturbation.toFixed(2)}`;
  return `${pct(a.robustAccuracy)} (${a.count}${median})`;
};
const minutes = (s) => (s === null ? '—' : `${(s / 60).toFixed(0)} min`);
const epochs = (r) => (r.epochs === null ? '—' : `${r.epochs} (${r.bestEpoch})`);
/** The rows' last-epoch clean / certified accuracy (mean ± std over seeds), "—" where a row lacks it. */
function lastEpochCell(g) {
  if (g.some((r) => r.last === null)) return '—';
  return `${meanSd(g.map((r) => r.last.clean))} / ${meanSd(g.map((r) => certifiedAt({ ...r, certified: r.last.certified })))}`;
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
function meanSd(xs) {
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return xs.length > 1 ? `${(100 * m).toFixed(2)} ± ${(100 * sd).toFixed(2)}` : (100 * m).toFixed(2);
}

const finished = loadRows().filter((r) => r.status === 'finished');
/** Figure 2's runs (`figure2-*` folders): minutes of training for the spectra figure, not rows of Table 1. */
const isFigure2Run = (r) => r.table.startsWith('figure2-');
const rows = finished.filter((r) => !isFigure2Run(r));
const figure2Runs = finished.filter(isFigure2Run);
const lines = [
  '# The paper\'s tables on this CPU (issue 18)',
  '',
  'Written by `node bench/scripts/paper-tables.mjs` from the committed `robustness experiment` folders beside this file',
  '(each folder\'s `summary.md` lists the exact command of every row). Ours: MNIST 60,000 / 10,000 (CIFAR-10: the lossy',
  'JPEG q75 copy, not the official files), the paper\'s protocol (Adam from 1e-3, batch 128, the reference\'s hinge',
  'margin) on the default projected orthogonalization, on the schedule the column names ("exponential": the paper\'s',
  '× 0.96235 per epoch; "compressed 200→N" and "cosine over N": time-compressed schedules from 1e-3 to the paper\'s end',
  'rate), **far fewer epochs than the paper\'s 200** (the column says how many, and the best epoch by test accuracy, as',
  'the reference selects), float-sound certificates on all test images,',
  'wasm on a shared 2-core machine (training time is wall time beside other runs). Paper: mean (± std) of 5 seeds,',
  '200 epochs.',
  '',
  '## Table 1 and Table 2 (clean / certified accuracy %, ε = 1.58 on MNIST, 36/255 on CIFAR-10)',
  '',
  '| dataset | model | conv | schedule | seeds | epochs (best) | training time / seed | clean % | certified % | PGD % (images) | L | broken | paper clean / certified | target | last epoch: clean / certified % |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
];
const groups = new Map();
// One line per (dataset, model, conv, schedule): seeds of the same protocol are averaged, other schedules get their own line.
const groupKey = (r) => `${key(r)}|${r.schedule}`;
for (const r of rows) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
const order = ['mnist/small/bcop', 'mnist/small/rko', 'mnist/small/ossn', 'mnist/small/svcm', 'mnist/large/bcop', 'mnist/large/rko', 'mnist/large/ossn', 'mnist/large/svcm', 'mnist/fc3/bcop', 'cifar10/small/bcop'];
const rank = (g) => (order.includes(g.split('|')[0]) ? order.indexOf(g.split('|')[0]) : order.length);
for (const gk of [...groups.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) {
  const g = groups.get(gk).sort((a, b) => a.seed - b.seed);
  const k = gk.split('|')[0];
  const [dataset, model, conv] = k.split('/');
  lines.push(
    `| ${dataset} | ${model === 'fc3' ? 'FC-3 (Table 2)' : model} | ${model === 'fc3' ? 'Björck dense' : conv} | ${g[0].schedule} | ${g.map((r) => r.seed).join(', ')} | ${g.map(epochs).join('; ')} | ${g.map((r) => minutes(r.trainingSeconds)).join('; ')} | ${meanSd(g.map((r) => r.clean))} | ${meanSd(g.map(certifiedAt))} | ${g.map((r) => attackCell(attack(r, 'pgd'))).join('; ')} | ${g.map((r) => r.lipschitzUpperBound?.toPrecision(8) ?? '—').join('; ')} | ${g.map(broken).join('; ')} | ${paperCell(k)} | ${targetCell(k, 100 * mean(g.map((r) => r.clean)), 100 * mean(g.map(certifiedAt)))} | ${lastEpochCell(g)} |`,
  );
}
lines.push(
  '',
  'Seeds separated by `;` are the seeds in order; clean and certified are their mean ± sample std. "broken": certified',
  'test points an attack broke (must be 0). L: the exact bound of the certified network (float64 norms). target: issue',
  '18\'s, clean ≥ the paper\'s mean (− 0.3 on MNIST Small) and certified ≥ its mean, for the means over the row\'s seeds',
  '(the issue also asks for at most one hour of training per Small row on an idle machine: the time column says what',
  'each took). Last epoch: the same evaluation at the end of training, a rule that does not look at the test set (the',
  'reference keeps the best-clean epoch; the target is judged on that, as the paper was). For OSSN and SVCM the rules',
  'differ most: certified accuracy climbs in the low-rate tail while clean accuracy falls.',
  '',
  '## Table 3 analogue (MNIST, ε = 1.58): accuracy under attack %',
  '',
  '| model | schedule | seed | clean % | FGSM % (images) | PGD % (images) | Boundary % (images, median ‖δ‖₂ found) | Pointwise % (images, median ‖δ‖₂) | certified % | broken | paper |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
);
const modelRank = (r) => ['small', 'large'].indexOf(r.model);
const table3 = rows.filter((r) => r.dataset === 'mnist' && r.conv === 'bcop' && (attack(r, 'boundary') || attack(r, 'pointwise')));
for (const r of table3.sort((a, b) => modelRank(a) - modelRank(b) || a.schedule.localeCompare(b.schedule) || a.seed - b.seed)) {
  const b = attack(r, 'boundary');
  lines.push(
    `| ${r.model} BCOP | ${r.schedule} | ${r.seed} | ${pct(r.clean)} | ${attackCell(attack(r, 'fgsm'))} | ${attackCell(attack(r, 'pgd'))} | ${attackCell(b)}${b?.iterations ? `, ${b.iterations} iterations` : ''} | ${attackCell(attack(r, 'pointwise'))} | ${pct(certifiedAt(r))} | ${broken(r)} | ${PAPER_ATTACKS[key(r)] ?? '—'} |`,
  );
}
lines.push(
  '',
  'Clean and certified: all 10,000 test images; the attacks: the first N test images (N in parentheses). The decision',
  'attacks report the median ℓ2 perturbation they found; an image counts as robust when no adversarial point closer than',
  'ε = 1.58 was found. "—": that attack has not been run to the end on this row yet.',
  '',
);
const cifar = rows.filter((r) => r.dataset === 'cifar10');
if (cifar.length > 0) {
  lines.push('## CIFAR-10 (JPEG q75 copy), ε = 36/255', '', '| model | schedule | seed | epochs (best) | training time | clean % | certified % | PGD % | FGSM % | broken | paper (official CIFAR-10) |', '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of cifar) {
    lines.push(`| ${r.model} ${r.conv} | ${r.schedule} | ${r.seed} | ${epochs(r)} | ${minutes(r.trainingSeconds)} | ${pct(r.clean)} | ${pct(certifiedAt(r))} | ${attackCell(attack(r, 'pgd'))} | ${attackCell(attack(r, 'fgsm'))} | ${broken(r)} | ${paperCell(key(r))}; ${PAPER_ATTACKS[key(r)] ?? ''} |`);
  }
  lines.push('');
}
if (figure2Runs.length > 0) {
  lines.push(
    "## Figure 2's short runs (not Table 1 rows)",
    '',
    'Trained only long enough for the spectra of Figure 2 (`spectra-figure`); no attacks, no zoo entry. Table 1\'s Large',
    'rows for RKO, OSSN and SVCM (the paper: 98.44 / 55.18, 98.31 / 53.77, 97.93 / 38.00) have not been run here.',
    '',
    '| folder | dataset | model | conv | epochs (best) | training time | clean % | certified % | L |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of figure2Runs) {
    lines.push(`| ${r.table} | ${r.dataset} | ${r.model} | ${r.conv} | ${epochs(r)} | ${minutes(r.trainingSeconds)} | ${pct(r.clean)} | ${pct(certifiedAt(r))} | ${r.lipschitzUpperBound?.toPrecision(8) ?? '—'} |`);
  }
  lines.push('');
}
writeFileSync(values.out, `${lines.join('\n')}\n`);
process.stdout.write(`wrote ${values.out} (${rows.length} finished rows, ${figure2Runs.length} Figure 2 runs)\n`);
