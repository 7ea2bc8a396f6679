#!/usr/bin/env node
// Scaffolds packages/<name> so that every package starts out matching the others:
//   node tooling/scripts/new-package.mjs <name> "<description>" [dep ...]
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: new-package.mjs <name> "<description>" [workspace-dep ...]');
  process.exit(2);
}
const dir = join('packages', name);
if (existsSync(join(dir, 'package.json'))) {
  console.error(`${dir} already exists`);
  process.exit(1);
}
mkdirSync(join(dir, 'src'), { recursive: true });
const pkg = {
  name: `@lipschitz/${name}`,
  version: '0.0.0',
  description,
  type: 'module',
  license: 'MIT',
  sideEffects: false,
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': {
      '@lipschitz/source': './src/index.ts',
      types: './dist/index.d.ts',
      import: './dist/index.js',
      default: './dist/index.js',
    },
    './package.json': './package.json',
  },
  files: ['dist', 'src/**/*.ts', '!src/**/*.test.ts', 'README.md', 'LICENSE'],
  scripts: { build: 'tsup', publint: 'publint --strict' },
  dependencies: Object.fromEntries(deps.map((d) => [`@lipschitz/${d}`, 'workspace:^'])),
  peerDependencies: { '@tensorflow/tfjs-core': '4.22.0' },
  devDependencies: { '@lipschitz/tooling': 'workspace:*', '@tensorflow/tfjs-core': 'catalog:' },
  publishConfig: { access: 'public' },
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
copyFileSync('LICENSE', join(dir, 'LICENSE'));
writeFileSync(
  join(dir, 'tsup.config.ts'),
  "import { packageConfig } from '@lipschitz/tooling/tsup';\nimport { defineConfig } from 'tsup';\n\nexport default defineConfig(packageConfig());\n",
);
writeFileSync(join(dir, 'tsconfig.json'), '{\n  "extends": "@lipschitz/tooling/tsconfig/base.json",\n  "include": ["src"]\n}\n');
console.log(`created ${dir}`);
