import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

// Benchmarks are vitest files under bench/ (same source resolution and gradient registration as the
// tests); each writes JSON to bench/results/. Run them one file at a time so timings do not compete.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['bench/**/*.bench.ts'],
      maxWorkers: 1,
      fileParallelism: false,
      testTimeout: 1_800_000,
      hookTimeout: 600_000,
    },
  }),
);
