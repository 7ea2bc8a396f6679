#!/usr/bin/env node
// `pnpm release`: after `turbo run build`, packs every public workspace package into release/<name>.tgz
// with `pnpm pack` (which rewrites workspace: ranges to real versions). Prints the tarball paths as JSON.
// Publishing is `pnpm -r publish` after `pnpm version-packages`; this script never touches the network.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, 'release'));
mkdirSync(outDir, { recursive: true });
const tarballs = {};
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  if (pkg.private) continue;
  const out = execFileSync('pnpm', ['pack', '--pack-destination', outDir], { cwd: pkgDir, encoding: 'utf8' });
  const file = out.trim().split('\n').filter((l) => l.endsWith('.tgz')).pop();
  tarballs[pkg.name] = file?.startsWith('/') ? file : join(outDir, file ?? '');
}
writeFileSync(join(outDir, 'tarballs.json'), `${JSON.stringify(tarballs, null, 2)}\n`);
console.log(JSON.stringify(tarballs, null, 2));
