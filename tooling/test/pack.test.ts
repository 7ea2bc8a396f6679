/**
 * What is tested: every public package, built and packed as it would be published (`pnpm release`), installs
 * from its tarball into a fresh npm project OUTSIDE the workspace (with only the registry's
 * @tensorflow/tfjs-core as peer) and works under plain Node: imports resolve, gradients are registered,
 * the wasm backend trains, a BCOP layer is orthogonal, a model certifies and its export validates; and @lipschitz/tfjs-layers (with the
 * registry's @tensorflow/tfjs-layers) runs its README quickstart under plain Node and bundles for the browser.
 * The tarballs hold a LICENSE and no test files; the `.d.ts` of every package type-check in a consumer with
 * `skipLibCheck: false`; the install line `pnpm release` writes for one package (its internal dependencies
 * included) works alone.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { quickstartFromReadme } from '@lipschitz/test-utils';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'lipschitz-pack-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

it('packed packages install outside the workspace and run under plain Node', () => {
  const releaseDir = join(work, 'release');
  execFileSync('pnpm', ['release', releaseDir], { cwd: root, stdio: 'pipe', timeout: 900_000 });
  const tarballs = readFileSync(join(releaseDir, 'tarballs.json'), 'utf8');
  const byName = JSON.parse(tarballs) as Record<string, string>;
  const names = Object.keys(byName).sort();
  expect(names).toEqual([
    '@lipschitz/backends',
    '@lipschitz/blockconv',
    '@lipschitz/certify',
    '@lipschitz/core',
    '@lipschitz/datasets',
    '@lipschitz/layers',
    '@lipschitz/linalg',
    '@lipschitz/model-format',
    '@lipschitz/orthogonalize',
    '@lipschitz/tfjs-layers',
    '@lipschitz/train',
    '@lipschitz/wasserstein',
  ]);
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '@tensorflow/tfjs-core@4.22.0', '@tensorflow/tfjs-layers@4.22.0', ...Object.values(byName)], {
    cwd: project,
    stdio: 'pipe',
    timeout: 600_000,
  });
  writeFileSync(
    join(project, 'smoke.mjs'),
    `
import { prepareBackend } from '@lipschitz/backends';
import { bcopConv2d, exportModel, smallConvNet } from '@lipschitz/layers';
import { certifyModel } from '@lipschitz/certify';
import { convSingularValues } from '@lipschitz/linalg';
import { exactW1 } from '@lipschitz/wasserstein';
import { syntheticImages } from '@lipschitz/datasets';
import { createOptimizer } from '@lipschitz/train';
import { bjorck } from '@lipschitz/orthogonalize';
import { circularPad } from '@lipschitz/blockconv';
import { validateExportedModel } from '@lipschitz/model-format';
import { LipschitzError } from '@lipschitz/core';
import * as tf from '@tensorflow/tfjs-core';

const { backend } = await prepareBackend('wasm');
const layer = bcopConv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, seed: 1 });
const [kernel] = await layer.exportLayers([6, 6, 4]).then((l) => l.filter((x) => x.type === 'conv2d'));
const x = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 3);
const grads = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x))), layer.trainableVariables);
const gradNorm = (await tf.addN(Object.values(grads.grads).map((g) => tf.sum(tf.abs(g)))).data())[0];
const set = syntheticImages({ count: 20, height: 28, width: 28, channels: 1, numClasses: 10, seed: 1 });
const model = smallConvNet({ conv: 'bcop', inputShape: [28, 28, 1], seed: 1 });
const report = await certifyModel(model, tf.tensor4d(set.images, [20, 28, 28, 1]), tf.tensor1d(set.labels, 'int32'), { epsilons: [0.1], inputShape: [28, 28, 1] });
const sv = await layer.lipschitzUpperBound([6, 6, 4]);
const validated = validateExportedModel(JSON.stringify(await exportModel(model, { inputShape: [28, 28, 1] })));
console.log(JSON.stringify({
  backend, gradNorm, sv, bound: report.lipschitzUpperBound, w1: exactW1({ points: [0, 1], count: 2, dim: 1 }, { points: [2, 3], count: 2, dim: 1 }).w1,
  optimizer: createOptimizer({ kind: 'adam' }).getClassName(), kernelType: kernel.type,
  isError: LipschitzError.isInstance(new LipschitzError('INVALID_ARGUMENT', 'x')),
  bjorckShape: bjorck(tf.randomNormal([4, 3], 0, 1, 'float32', 5)).shape, padded: circularPad(x, 3).shape,
  outputShape: validated.outputShape,
  svCount: convSingularValues(new Float32Array(9), [3, 3, 1, 1], [4, 4]).length,
}));
`,
  );
  const output = execFileSync(process.execPath, ['smoke.mjs'], { cwd: project, encoding: 'utf8', timeout: 300_000 });
  const result = JSON.parse(output.trim().split('\n').pop() as string);
  expect(result.backend).toBe('wasm');
  expect(result.gradNorm).toBeGreaterThan(0);
  expect(result.sv).toBeGreaterThan(0.999);
  expect(result.sv).toBeLessThan(1.001);
  expect(result.bound).toBeGreaterThanOrEqual(1);
  expect(result.w1).toBe(2);
  expect(result.optimizer).toBe('Adam');
  expect(result.kernelType).toBe('conv2d');
  expect(result.isError).toBe(true);
  expect(result.bjorckShape).toEqual([4, 3]);
  expect(result.padded).toEqual([2, 8, 8, 4]);
  expect(result.svCount).toBe(16);
  expect(result.outputShape).toEqual([10]);

  // @lipschitz/tfjs-layers: the README quickstart (fit, save, load, certify) as a user runs it.
  writeFileSync(join(project, 'quickstart.mjs'), quickstartFromReadme(join(root, 'packages', 'tfjs-layers', 'README.md')));
  writeFileSync(join(project, 'run-quickstart.mjs'), `const m = await import('./quickstart.mjs'); console.log(JSON.stringify({ ...m }));\n`);
  const quickstart = execFileSync(process.execPath, ['run-quickstart.mjs'], { cwd: project, encoding: 'utf8', timeout: 600_000 });
  const q = JSON.parse(quickstart.trim().split('\n').pop() as string);
  expect(q.bound).toBeGreaterThanOrEqual(0.999);
  expect(q.bound).toBeLessThan(1.001);
  expect(q.clean).toBeGreaterThan(0.3);
  expect(q.sameAsSaved).toBe(0);

  // Every tarball ships its LICENSE and no test file.
  for (const [name, tarball] of Object.entries(byName)) {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(files, name).toContain('package/LICENSE');
    expect(files.filter((f) => f.endsWith('.test.ts')), name).toEqual([]);
  }

  // The published .d.ts type-check without skipLibCheck: a consumer importing every package (and subpath).
  const exportsOf = (name: string) =>
    Object.keys(JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')).exports ?? { '.': '' })
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? name : `${name}/${key.slice(2)}`));
  const specifiers = names.flatMap(exportsOf);
  expect(specifiers).toContain('@lipschitz/backends/bundling');
  writeFileSync(
    join(project, 'consumer.ts'),
    `${specifiers.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}\nexport const modules = [${specifiers.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022' },
      files: ['consumer.ts'],
    }),
  );
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  let tscOutput = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', stdio: 'pipe', timeout: 300_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    tscOutput = `${stdout ?? ''}${stderr ?? ''}`;
  }
  // Ours must be clean; third-party declarations are not ours to fix (@tensorflow/tfjs-layers 4.22's are not
  // strict-clean: TS2411/TS2420 in its keras_format and training .d.ts).
  const ours = tscOutput.split('\n').filter((line) => /error TS\d+/.test(line) && !/^node_modules\/(?!@lipschitz\/)/.test(line));
  expect(ours, `the packed .d.ts do not type-check with skipLibCheck: false:\n${tscOutput}`).toEqual([]);

  // The install line written for one package brings its internal dependencies (layers needs linalg,
  // orthogonalize, blockconv, model-format and core, none of which is on a registry).
  const install = JSON.parse(readFileSync(join(releaseDir, 'install.json'), 'utf8')) as Record<string, string[]>;
  expect(install['@lipschitz/layers'].filter((a) => a.endsWith('.tgz')).map((t) => names.find((n) => byName[n] === t)).sort()).toEqual([
    '@lipschitz/blockconv',
    '@lipschitz/core',
    '@lipschitz/layers',
    '@lipschitz/linalg',
    '@lipschitz/model-format',
    '@lipschitz/orthogonalize',
  ]);
  expect(readFileSync(join(releaseDir, 'INSTALL.md'), 'utf8')).toContain(`npm install ${install['@lipschitz/layers'].join(' ')}`);
  const alone = join(work, 'alone');
  execFileSync('mkdir', ['-p', alone]);
  writeFileSync(join(alone, 'package.json'), JSON.stringify({ name: 'alone', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...install['@lipschitz/layers']], { cwd: alone, stdio: 'pipe', timeout: 600_000 });
  const layersOnly = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "const l = await import('@lipschitz/layers'); console.log(typeof l.bcopConv2d);"],
    { cwd: alone, encoding: 'utf8', timeout: 120_000 },
  );
  expect(layersOnly.trim()).toBe('function');
}, 1_200_000);

it('the packed @lipschitz/tfjs-layers bundles for the browser with the registry tfjs (no Node built-ins)', async () => {
  const project = join(work, 'project');
  writeFileSync(
    join(project, 'browser.mjs'),
    `
import { bcopConv2d, bjorckDense, certify, lipschitzCallback, maxMin, multiClassHinge, toPlainModel } from '@lipschitz/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
export async function run(x, y) {
  const model = tfl.sequential({ layers: [bcopConv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 4, strides: 2 }), maxMin(), tfl.layers.flatten(), bjorckDense({ units: 10 })] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: multiClassHinge({ epsilon: 1.5 }) });
  await model.fit(x, y, { epochs: 1, callbacks: [lipschitzCallback()] });
  await model.save('indexeddb://small');
  const loaded = await tfl.loadLayersModel('indexeddb://small');
  return { result: await certify(loaded, x, tf.argMax(y, 1), 0.3), plain: await toPlainModel(loaded) };
}
`,
  );
  const result = await build({
    entryPoints: [join(project, 'browser.mjs')],
    absWorkingDir: project,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const code = result.outputFiles[0].text;
  expect(code).not.toMatch(/(from|import)\s*\(?\s*["']node:/);
  expect(code).not.toMatch(/require\(["']node:/);
  expect(code).toContain('BcopConv2d');
}, 300_000);
