#!/usr/bin/env node
// `pnpm release [DIR]`: after `turbo run build`, packs every public workspace package into DIR (default
// release/) with `pnpm pack` (which rewrites workspace: ranges to real versions), and writes
//   DIR/tarballs.json  { package name: absolute tarball path }
//   DIR/install.json   { package name: [the npm install arguments for it and ALL its internal dependencies] }
//   DIR/INSTALL.md     the install line of every package, ready to paste
// and prints the install lines. A tarball's @lipschitz/* dependencies are not on a registry: npm must get
// their tarballs in the same `npm install`, which is what each line does.
// Publishing is `pnpm -r publish` after `pnpm version-packages`; this script never touches the network.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const outDir = resolve(process.argv[2] ?? join(root, 'release'));
mkdirSync(outDir, { recursive: true });

/** The public workspace packages: name → package.json. */
const packages = new Map();
for (const dir of readdirSync(join(root, 'packages'))) {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  if (!pkg.private) packages.set(pkg.name, { pkg, dir: join(root, 'packages', dir) });
}

/** `name` and every public workspace package it depends on at run time, transitively, sorted. */
export function internalClosure(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  for (const dep of Object.keys(packages.get(name)?.pkg.dependencies ?? {})) {
    if (packages.has(dep)) internalClosure(dep, seen);
  }
  return seen;
}

const tarballs = {};
for (const [name, { dir }] of packages) {
  const out = execFileSync('pnpm', ['pack', '--pack-destination', outDir], { cwd: dir, encoding: 'utf8' });
  const file = out.trim().split('\n').filter((l) => l.endsWith('.tgz')).pop();
  tarballs[name] = file?.startsWith('/') ? file : join(outDir, file ?? '');
}
const sortedNames = Object.keys(tarballs).sort();
const tfjs = `@tensorflow/tfjs-core@${packages.get('@lipschitz/core')?.pkg.peerDependencies?.['@tensorflow/tfjs-core'] ?? '4.22.0'}`;
const install = {};
for (const name of sortedNames) install[name] = [tfjs, ...[...internalClosure(name)].sort().map((n) => tarballs[n])];
const line = (args) => `npm install ${args.join(' ')}`;
const all = [tfjs, ...sortedNames.map((n) => tarballs[n])];

writeFileSync(join(outDir, 'tarballs.json'), `${JSON.stringify(Object.fromEntries(sortedNames.map((n) => [n, tarballs[n]])), null, 2)}\n`);
writeFileSync(join(outDir, 'install.json'), `${JSON.stringify(install, null, 2)}\n`);
writeFileSync(
  join(outDir, 'INSTALL.md'),
  [
    '# Installing the packed packages',
    '',
    'Written by `pnpm release`. The @lipschitz packages depend on each other and are not on a registry here, so',
    'npm must be given the tarball of every internal dependency in the same command. Run one of these lines',
    'in your project (the paths are absolute; @tensorflow/tfjs-core and the other third-party dependencies',
    'come from the npm registry).',
    '',
    'Everything:',
    '',
    '```sh',
    line(all),
    '```',
    '',
    ...sortedNames.flatMap((name) => [`${name} and its internal dependencies:`, '', '```sh', line(install[name]), '```', '']),
  ].join('\n'),
);
process.stdout.write(
  `packed ${sortedNames.length} packages into ${outDir} (tarballs.json, install.json, INSTALL.md).\n` +
    `Install everything in your project with:\n  ${line(all)}\n` +
    `or one package with its internal dependencies (see ${join(outDir, 'INSTALL.md')}), e.g. @lipschitz/layers:\n  ${line(install['@lipschitz/layers'] ?? [])}\n`,
);
