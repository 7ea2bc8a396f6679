// @ts-check
/**
 * The one tsup preset every public package uses: ESM only, `.d.ts`, sourcemaps, Node 20 target.
 * `@tensorflow/*` and every dependency stay external (tsup externalizes dependencies and peers).
 * @param {import('tsup').Options} [overrides]
 * @returns {import('tsup').Options}
 */
export function packageConfig(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'neutral',
    treeshake: true,
    ...overrides,
  };
}
