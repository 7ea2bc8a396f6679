#!/usr/bin/env node
// `pnpm bench [filter]`: runs every benchmark in bench/ (or those matching the filter), one at a time.
// Each writes bench/results/<name>.json with medians and ratios to a baseline measured in the same run.
import { spawnSync } from 'node:child_process';

const run = spawnSync('pnpm', ['exec', 'vitest', 'run', '--config', 'vitest.bench.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
