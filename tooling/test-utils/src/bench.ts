import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** Timing summary of repeated runs, in milliseconds. */
export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  samples: number[];
}

/**
 * Times `fn` (which may return a tensor or tensors; they are read with `await data()` so async
 * backends finish, then disposed): `warmup` untimed runs, then `repeats` timed runs. Report medians.
 */
export async function measure(fn: () => unknown | Promise<unknown>, { warmup = 2, repeats = 7 } = {}): Promise<Timing> {
  const once = async () => {
    const result = await fn();
    const tensors: tf.Tensor[] = [];
    const collect = (v: unknown) => {
      if (v instanceof tf.Tensor) tensors.push(v);
      else if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) Object.values(v).forEach(collect);
    };
    collect(result);
    for (const t of tensors) await t.data();
    for (const t of tensors) t.dispose();
  };
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted[sorted.length - 1], samples };
}

/**
 * Writes a benchmark result atomically to `bench/results/<name>.json` (repository root), adding the
 * date, Node version and backend.
 */
export function writeBenchResult(name: string, result: Record<string, unknown>): string {
  const file = join(process.cwd(), 'bench', 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const body = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    backend: tf.getBackend(),
    ...result,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}
