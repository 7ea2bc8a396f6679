import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyWasmBinaries, nodeBundleOptions } from '@lipschitz/backends/bundling';
import { build } from 'esbuild';

/**
 * Builds an app's CLI exactly as it ships (one ESM file, one tfjs-core, the wasm binaries beside it — the
 * recipe of `@lipschitz/backends/bundling`) from `entry` (its `src/cli.ts`) into a fresh temporary
 * directory (or `outDir`), and returns the path of `cli.js`. Tests then run the real built CLI.
 */
export async function buildCliBundle(entry: string, outDir = mkdtempSync(join(tmpdir(), 'lipschitz-cli-'))): Promise<string> {
  const outfile = join(outDir, 'cli.js');
  await build({
    ...nodeBundleOptions(),
    entryPoints: [entry],
    outfile,
    conditions: ['@lipschitz/source', 'module', 'import'],
    logLevel: 'error',
    absWorkingDir: dirname(dirname(entry)),
  });
  copyWasmBinaries(outDir);
  return outfile;
}

/** The result of running a CLI. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node cli.js ...args` to completion (CI=1, so progress bars print lines instead of redrawing). */
export function runCli(cli: string, args: string[], options: { timeoutMs?: number } = {}): CliRun {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: options.timeoutMs ?? 300_000, env: { ...process.env, CI: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the CLI without waiting (for kill tests). */
export function startCli(cli: string, args: string[]) {
  return spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
}
