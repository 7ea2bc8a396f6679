import { resolve } from 'node:path';
import { writeJsonAtomic, prepareCliBackend } from '@lipschitz/app-kit';
import type { BackendName } from '@lipschitz/backends';

import { exportModel } from '@lipschitz/layers';
import { inputShapeOf } from '../experiment';
import { openRun } from '../run';

/** `robustness export --run DIR --out FILE`: the best checkpoint as a `lipschitz-model/1` file (atomic). */
export async function exportCommand({ run, out, backend, quiet = false }: { run: string; out: string; backend: BackendName; quiet?: boolean }): Promise<void> {
  await prepareCliBackend(backend);
  const { model, config, checkpoint } = await openRun(run);
  try {
    model.freeze();
    const exported = await exportModel(model, {
      inputShape: inputShapeOf(config.dataset),
      range: [0, 1],
      metadata: { ...config, checkpoint, exportedAt: new Date().toISOString(), tool: 'robustness export' },
    });
    await writeJsonAtomic(out, exported);
    if (!quiet) process.stdout.write(`wrote ${resolve(out)} (L ≤ ${exported.lipschitzUpperBound.toPrecision(8)})\n`);
  } finally {
    model.dispose();
  }
}
