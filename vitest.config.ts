import { defineConfig } from 'vitest/config';

// Tests run from sources: the `@lipschitz/source` export condition points every workspace package at
// its `src/index.ts`, so no build is needed first.
const conditions = ['@lipschitz/source', 'module', 'import', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@lipschitz/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tooling/test/**/*.test.ts', 'tooling/test-utils/src/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    server: { deps: { inline: [/@lipschitz\//] } },
  },
});
