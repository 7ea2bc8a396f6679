#!/usr/bin/env node
// Runs the whole vitest suite with a JSON report and prints the plain summary line CI reads:
//   N passed, N failed
// (counted by ./test-summary.mjs). Exit code: non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { summarizeVitestReport, summaryLine } from './test-summary.mjs';

const report = '.vitest-report.json';
rmSync(report, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('pnpm', ['exec', ...args], { stdio: 'inherit' });
const summary = summarizeVitestReport(existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) : null, run.status);
for (const note of summary.notes) console.log(note);
console.log(summaryLine(summary));
process.exit(run.status === 0 && summary.failed === 0 ? 0 : 1);
