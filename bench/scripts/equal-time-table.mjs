#!/usr/bin/env node
// Summarises an equal-time comparison (bench/scripts/equal-time.sh): one row per run (steps, epochs, best
// epoch, clean and float-sound certified accuracy from certify.json, L) and the mean per scheme; writes
// OUT_DIR/summary-table.json and prints a Markdown table.   node bench/scripts/equal-time-table.mjs OUT_DIR
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: equal-time-table.mjs OUT_DIR');
  process.exit(2);
}
const rows = [];
for (const name of readdirSync(dir).sort()) {
  const m = /^(.*)-s(\d+)$/.exec(name);
  if (!m || !existsSync(join(dir, name, 'certify.json'))) continue;
  const summary = JSON.parse(readFileSync(join(dir, name, 'summary.json'), 'utf8'));
  const certify = JSON.parse(readFileSync(join(dir, name, 'certify.json'), 'utf8'));
  const epochs = readFileSync(join(dir, name, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => typeof r.testAccuracy === 'number' && r.epoch > 0).length;
  rows.push({
    scheme: m[1],
    seed: Number(m[2]),
    steps: summary.steps,
    epochs,
    bestEpoch: summary.best?.epoch ?? null,
    clean: certify.clean,
    certified158: certify.certified['1.58'],
    certified03: certify.certified['0.3'],
    lipschitzUpperBound: certify.lipschitzUpperBound,
    stoppedBy: summary.stoppedBy ?? null,
  });
}
const schemes = [...new Set(rows.map((r) => r.scheme))];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const means = schemes.map((scheme) => {
  const rs = rows.filter((r) => r.scheme === scheme);
  return { scheme, runs: rs.length, clean: mean(rs.map((r) => r.clean)), certified158: mean(rs.map((r) => r.certified158)), certified03: mean(rs.map((r) => r.certified03)) };
});
writeFileSync(join(dir, 'summary-table.json'), `${JSON.stringify({ rows, means }, null, 2)}\n`);
const pct = (x) => (100 * x).toFixed(2);
console.log('| seed | scheme | steps | epochs (best) | clean % | certified % ε = 1.58 | certified % ε = 0.3 | L (exact) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of [...rows].sort((a, b) => a.seed - b.seed || a.scheme.localeCompare(b.scheme))) {
  console.log(`| ${r.seed} | ${r.scheme} | ${r.steps} | ${r.epochs} (${r.bestEpoch}) | ${pct(r.clean)} | ${pct(r.certified158)} | ${pct(r.certified03)} | ${r.lipschitzUpperBound.toFixed(7)} |`);
}
for (const m of means) console.log(`| mean of ${m.runs} | ${m.scheme} | | | ${pct(m.clean)} | ${pct(m.certified158)} | ${pct(m.certified03)} | |`);
