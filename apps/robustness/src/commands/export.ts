import { resolve } from 'node:path';
import { writeJsonAtomic, prepareCliBackend } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';

import { exportModel } from '@lipschitz/layers';
import { inputShapeOf } from '../experiment';
import { type RunCheckpoint, assertWritableOutput, openRun } from '../run';

/**
 * `robustness export --run DIR --out FILE [--checkpoint best|latest] [--force]`: the best checkpoint (or the latest:
 * the end of training) as a `lipschitz-model/1` file (atomic), its `metadata.checkpoint` saying which. Refuses an
 * existing FILE without `force`, and a FILE among a run's own files (config.json, checkpoints/, metrics.jsonl,
 * summary.json, certify.json, ...) always.
 */
export async function exportCommand({
  run,
  out,
  backend,
  force = false,
  quiet = false,
  checkpoint: which = 'best',
}: { run: string; out: string; backend: BackendName; force?: boolean; quiet?: boolean; checkpoint?: RunCheckpoint }): Promise<void> {
  assertWritableOutput(out, { force, run, option: '--out' });
  await prepareCliBackend(backend);
  const { model, config, checkpoint, step } = await openRun(run, which);
  try {
    model.freeze();
    const exported = await exportModel(model, {
      inputShape: inputShapeOf(config.dataset),
      range: [0, 1],
      metadata: { ...config, checkpoint, checkpointStep: step, exportedAt: new Date().toISOString(), tool: 'robustness export' },
    });
    await writeJsonAtomic(out, exported, 'export');
    if (!quiet) process.stdout.write(`wrote ${resolve(out)} (L ≤ ${exported.lipschitzUpperBound.toPrecision(8)})\n`);
  } finally {
    model.dispose();
  }
}
