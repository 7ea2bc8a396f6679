import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWasmBinaries, nodeBundleOptions } from '@lipschitz/backends/bundling';
import { build } from 'esbuild';

const appDir = join(import.meta.dirname, '..');

/**
 * Builds the wgan CLI exactly as the shipped bundle (one file, one tfjs-core, the wasm binaries beside
 * it) into a fresh temporary directory, and returns the path of `cli.js`. Tests run the real built CLI.
 */
export async function buildCli(outDir = mkdtempSync(join(tmpdir(), 'wgan-cli-'))): Promise<string> {
  const outfile = join(outDir, 'cli.js');
  await build({
    ...nodeBundleOptions(),
    entryPoints: [join(appDir, 'src', 'cli.ts')],
    outfile,
    conditions: ['@lipschitz/source', 'module', 'import'],
    logLevel: 'error',
    absWorkingDir: appDir,
  });
  copyWasmBinaries(outDir);
  return outfile;
}

/** The result of running the CLI. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node cli.js ...args` to completion. */
export function runCli(cli: string, args: string[], options: { timeoutMs?: number } = {}): CliRun {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: options.timeoutMs ?? 300_000, env: { ...process.env, CI: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts the CLI without waiting (for kill tests). */
export function startCli(cli: string, args: string[]) {
  return spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
}
