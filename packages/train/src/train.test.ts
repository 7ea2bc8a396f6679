import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certifyExportedModel } from '@lipschitz/certify';
import { type ExportedModel, MODEL_FORMAT } from '@lipschitz/core';
import { describeBackends, expectNoLeaks } from '@lipschitz/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, expect, it } from 'vitest';
import { blobs, hingeLoss, reproducible, snapshot, tinyModel } from '../test/fixtures';
import { openRunDirectory } from './run-directory';
import { memoryRunStore } from './run-store';
import { constantSchedule } from './schedule';
import { type TrainOptions, train } from './train';
import type { EpochMetrics, TrainProgressEvent } from './progress';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lipschitz-train-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const trainSet = blobs(150, { seed: 1 });
const testSet = blobs(60, { seed: 2 });

function options(overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model: overrides.model ?? tinyModel({ seed: 3 }),
    trainSet,
    testSet,
    loss: hingeLoss(),
    optimizer: { kind: 'adam', learningRate: 0.02 },
    epochs: 4,
    batchSize: 32,
    seed: 5,
    epsilons: [0.05],
    lossEvery: 3,
    ...overrides,
  };
}

describeBackends('train', () => {
  it('lowers the loss over a short run, with the reference schedule, and keeps live tensors flat', async () => {
    const events: TrainProgressEvent[] = [];
    const tensorsAtEpochEnd: number[] = [];
    const model = tinyModel({ seed: 3 });
    const store = memoryRunStore();
    const result = await train(
      options({
        model,
        store,
        epochs: 5,
        onProgress: (event) => {
          events.push(event);
          if (event.type === 'epoch') tensorsAtEpochEnd.push(tf.memory().numTensors);
        },
      }),
    );
    expect(result.status).toBe('finished');
    expect(result.steps).toBe(5 * 5);
    expect(result.history.map((m) => m.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    const losses = result.history.slice(1).map((m) => m.trainLoss as number);
    expect(losses[4]).toBeLessThan(losses[0] * 0.7);
    expect(result.history.every((m) => m.testAccuracy !== undefined && m.certified?.['0.05'] !== undefined)).toBe(true);
    expect(result.history[1].lr).toBeCloseTo(0.02 * 0.96235062639, 15);
    expect(result.history[5].lr).toBeCloseTo(0.02 * 0.96235062639 ** 5, 15);
    // Flat after epoch 1 (Adam creates its moments on the first step).
    expect(new Set(tensorsAtEpochEnd.slice(1)).size).toBe(1);
    // Best checkpoint = highest test accuracy, and the model ends with those weights.
    const bestAccuracy = Math.max(...result.history.map((m) => m.testAccuracy as number));
    expect(result.best?.testAccuracy).toBe(bestAccuracy);
    expect(result.best?.epoch).toBe(result.history.find((m) => m.testAccuracy === bestAccuracy)?.epoch);
    const best = await store.loadCheckpoint('best');
    expect(best?.manifest.meta.epoch).toBe(result.best?.epoch);
    expect(store.metrics).toHaveLength(6);
    // Events: a step event per step, losses every 3 steps, an evaluation before epoch 1.
    const stepEvents = events.filter((e) => e.type === 'step');
    expect(stepEvents).toHaveLength(25);
    expect(stepEvents.filter((e) => e.loss !== undefined).map((e) => e.step)).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    expect(events[0]).toMatchObject({ type: 'evaluation', epoch: 0, step: 0, stepsPerEpoch: 5, totalSteps: 25 });
    expect(events.at(-1)?.type).toBe('done');
    expect(stepEvents.at(-1)?.etaMs).toBe(0);
    expect(model.afterSteps).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // Each call says where the step falls in its epoch (5 batches per epoch): SVCM projects on the last one.
    expect(model.afterStepContexts).toEqual(Array.from({ length: 25 }, (_, i) => ({ batchInEpoch: i % 5, lastInEpoch: i % 5 === 4 })));
    model.dispose();
  });

  it('resume: 2 epochs, then fresh objects resume to 4 = 4 epochs straight (bit-for-bit weights and metrics)', async () => {
    const straight = tinyModel({ seed: 3 });
    const full = await train(options({ model: straight, restoreBest: false }));

    const store = memoryRunStore();
    const first = tinyModel({ seed: 3 });
    const partial = await train(options({ model: first, store, epochs: 2, restoreBest: false }));
    expect(partial.epochs).toBe(2);
    first.dispose();
    const second = tinyModel({ seed: 77 }); // other init: everything must come from the checkpoint
    const resumed = await train(options({ model: second, store, epochs: 4, resume: true, restoreBest: false }));
    expect(await snapshot(second)).toEqual(await snapshot(straight));
    expect(reproducible(resumed.history)).toEqual(reproducible(full.history));
    expect(reproducible(store.metrics)).toEqual(reproducible(full.history));
    expect(resumed.best).toMatchObject({ epoch: full.best?.epoch, testAccuracy: full.best?.testAccuracy });
    straight.dispose();
    second.dispose();
  });

  it('resume from a mid-epoch checkpoint (aborted run, run directory) is exact too', async () => {
    const straight = tinyModel({ seed: 3 });
    const full = await train(options({ model: straight, epochs: 3, restoreBest: false }));
    const dir = tempDir();
    const controller = new AbortController();
    const first = tinyModel({ seed: 3 });
    const aborted = await train(
      options({
        model: first,
        runDir: dir,
        epochs: 3,
        checkpointEvery: 4,
        restoreBest: false,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.type === 'step' && e.step === 7) controller.abort();
        },
      }),
    );
    expect(aborted).toMatchObject({ status: 'aborted', epochs: 1, steps: 7 });
    first.dispose();
    const latest = await (await openRunDirectory(dir)).loadCheckpoint('latest');
    expect(latest?.manifest.meta).toMatchObject({ epoch: 1, batchInEpoch: 2, step: 7 });
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))).toMatchObject({ status: 'running', epochs: 3 });
    const second = tinyModel({ seed: 8 });
    const resumed = await train(options({ model: second, runDir: dir, epochs: 3, checkpointEvery: 4, resume: true, restoreBest: false }));
    expect(resumed.status).toBe('finished');
    expect(await snapshot(second)).toEqual(await snapshot(straight));
    expect(reproducible(resumed.history)).toEqual(reproducible(full.history));
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(reproducible(lines)).toEqual(reproducible(full.history));
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ status: 'finished', epochs: 3, steps: 15 });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ batchSize: 32, seed: 5, optimizer: { kind: 'adam', learningRate: 0.02, epsilon: 1e-8 } });
    // A finished run is not overwritten.
    await expect(train(options({ model: second, runDir: dir, epochs: 3 }))).rejects.toThrow(/^train: .* holds a finished run\. Pass overwrite: true/);
    await expect(train(options({ model: second, runDir: dir, epochs: 3, resume: true }))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    const again = await train(options({ model: second, runDir: dir, epochs: 1, overwrite: true }));
    expect(again.epochs).toBe(1);
    straight.dispose();
    second.dispose();
  });

  it('sees an abort from a macrotask (a SIGINT handler, a timer) within the epoch, not at its end', async () => {
    // A step on cpu/wasm resolves as microtasks only: a signal handler runs only if the loop yields to the event loop.
    const model = tinyModel({ seed: 3 });
    const controller = new AbortController();
    setImmediate(() => controller.abort()); // runs where a signal handler would: after the poll phase
    const result = await train(options({ model, epochs: 3, restoreBest: false, signal: controller.signal }));
    expect(result.status).toBe('aborted');
    expect(result.steps).toBe(1); // the handler ran at the first yield, after step 1
    model.dispose();
  });

  it('refuses to resume with different settings or to clobber a run in progress', async () => {
    const store = memoryRunStore();
    const model = tinyModel({ seed: 3 });
    await train(options({ model, store, epochs: 1, testSet: undefined }));
    await expect(train(options({ model, store, epochs: 2, batchSize: 16, resume: true }))).rejects.toThrow(
      /^train: cannot resume memory with batchSize = 16; the run used 32\. Pass the same settings or overwrite: true\./,
    );
    const other = memoryRunStore();
    const controller = new AbortController();
    controller.abort();
    await train(options({ model, store: other, epochs: 2, signal: controller.signal }));
    await expect(train(options({ model, store: other }))).rejects.toThrow(/^train: memory holds a run in progress\. Pass resume: true/);
    model.dispose();
  });

  it('stops with NUMERICAL_ERROR when the loss becomes NaN, keeping the last finite checkpoint', async () => {
    const store = memoryRunStore();
    const model = tinyModel({ seed: 3 });
    let calls = 0;
    const base = hingeLoss();
    const poisoned = (logits: tf.Tensor, labels: tf.Tensor) =>
      tf.tidy(() => (++calls > 7 ? (tf.mul(base(logits, labels), Number.NaN) as tf.Scalar) : base(logits, labels)));
    const error = await train(options({ model, store, loss: poisoned, testSet: undefined, lossEvery: 100 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NUMERICAL_ERROR' });
    expect((error as Error).message).toMatch(/^train: the training loss became NaN in epoch 2 \(by step 10\)\. Lower the learning rate/);
    const latest = await store.loadCheckpoint('latest');
    expect(latest?.manifest.meta).toMatchObject({ epoch: 1, step: 5 });
    model.dispose();
  });

  it('stops with NUMERICAL_ERROR when the weights become NaN although the loss stays finite', async () => {
    const store = memoryRunStore();
    const model = tinyModel({ seed: 3 });
    let calls = 0;
    const base = hingeLoss();
    // sqrt(0·s) is 0 (a finite loss) but its gradient is ∞·0 = NaN, so Adam writes NaN into the weights at
    // the last step of epoch 2: every loss of the epoch is finite, only the weights are not.
    const nanGradient = (logits: tf.Tensor, labels: tf.Tensor) =>
      tf.tidy(() =>
        ++calls > 9 ? (tf.add(base(logits, labels), tf.sqrt(tf.mul(tf.sum(logits), 0))) as tf.Scalar) : base(logits, labels),
      );
    const error = await train(options({ model, store, loss: nanGradient, testSet: undefined, lossEvery: 100 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NUMERICAL_ERROR' });
    expect((error as Error).message).toMatch(/^train: the weights became NaN or infinite in epoch 2 \(by step 10\)\. Lower the learning rate/);
    const latest = await store.loadCheckpoint('latest');
    expect(latest?.manifest.meta).toMatchObject({ epoch: 1, step: 5 });
    model.dispose();
  });

  it('a full disk during a checkpoint raises IO_ERROR; the previous checkpoint stays and the run resumes', async () => {
    const dir = tempDir();
    let binaryWrites = 0;
    const failing = await openRunDirectory(dir, {
      io: {
        async writeFileDurable(path, data) {
          const { writeFile } = await import('node:fs/promises');
          if (path.includes('latest-') && ++binaryWrites === 3) {
            await writeFile(path, data.subarray(0, 10));
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
          }
          await writeFile(path, data);
        },
      },
    });
    const model = tinyModel({ seed: 3 });
    const error = await train(options({ model, store: failing, epochs: 3 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IO_ERROR' });
    expect((error as Error).message).toMatch(/ENOSPC/);
    const latest = await (await openRunDirectory(dir)).loadCheckpoint('latest');
    expect(latest?.manifest.meta).toMatchObject({ epoch: 1, step: 5 });
    const resumed = await train(options({ model: tinyModel({ seed: 3 }), runDir: dir, epochs: 3, resume: true }));
    expect(resumed).toMatchObject({ status: 'finished', epochs: 3, steps: 15 });
    model.dispose();
  });

  it('evaluates every N epochs and always the last; constant schedules; no test set', async () => {
    const model = tinyModel({ seed: 3 });
    const result = await train(
      options({ model, epochs: 5, evaluateEvery: 2, initialEvaluation: false, schedule: constantSchedule(0.01), trainLimit: 40, testLimit: 10 }),
    );
    expect(result.history.map((m) => m.testAccuracy !== undefined)).toEqual([false, false, true, false, true, true]);
    expect(result.history.slice(1).every((m) => m.lr === 0.01)).toBe(true);
    expect(result.steps).toBe(5 * 2);
    const noTest = await train(options({ model, epochs: 1, testSet: undefined }));
    expect(noTest.best).toBeNull();
    model.dispose();
  });

  it('leaks no tensors over whole runs; resume on an empty store starts a new run', async () => {
    const model = tinyModel({ seed: 3 });
    await expectNoLeaks(() => train(options({ model, epochs: 1, checkpointEvery: 2, trainLimit: 64 })), 2);
    const result = await train(options({ model, epochs: 1, resume: true }));
    expect(result.history.map((m) => m.epoch)).toEqual([0, 1]);
    model.dispose();
  });

  it('timeBudgetMs: stops after the step that spends the budget, evaluates and saves the partial epoch, finishes', async () => {
    // 5 steps per epoch; every afterStep takes 40 ms, so a 300 ms budget ends inside an early epoch
    const model = tinyModel({ seed: 3, afterStepDelayMs: () => 40 });
    const store = memoryRunStore();
    const result = await train(options({ model, store, epochs: 50, timeBudgetMs: 300 }));
    expect(result.status).toBe('finished');
    expect(result.steps).toBeGreaterThan(0);
    expect(result.steps).toBeLessThan(50 * 5);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(300);
    const last = result.history.at(-1);
    expect(last?.epoch).toBe(result.epochs);
    expect(last?.step).toBe(result.steps);
    expect(last?.testAccuracy).toBeDefined();
    expect(last?.certified?.['0.05']).toBeDefined();
    expect(Number.isFinite(last?.trainLoss)).toBe(true);
    expect(model.afterSteps).toHaveLength(result.steps);
    const summary = await store.readSummary();
    expect(summary).toMatchObject({ status: 'finished', steps: result.steps, stoppedBy: 'time-budget' });
    expect((await store.loadCheckpoint('latest'))?.manifest.meta.epoch).toBe(result.epochs);
    // a budget that is not reached changes nothing
    const unhurried = tinyModel({ seed: 3 });
    const unhurriedStore = memoryRunStore();
    const full = await train(options({ model: unhurried, store: unhurriedStore, epochs: 2, timeBudgetMs: 1e9 }));
    expect(full.steps).toBe(10);
    expect(await unhurriedStore.readSummary()).not.toHaveProperty('stoppedBy');
    await expect(train(options({ model: unhurried, timeBudgetMs: 0 }))).rejects.toThrow(/^train: timeBudgetMs must be/);
    for (const m of [model, unhurried]) m.dispose();
  });

  it("the log's certified accuracy, accuracy and L are certifyExportedModel's on the best checkpoint (one definition of certified)", async () => {
    const model = tinyModel({ seed: 3 });
    const epsilons = [1.58, 0.3, 0.05, 0.02, 0.01];
    const store = memoryRunStore();
    const result = await train(options({ model, store, epochs: 3, epsilons }));
    const best = result.best as EpochMetrics;
    expect(result.restoredBest).toBe(true);
    expect(best.floatErrorModel).toBe('rigorous');
    expect((await store.readConfig())?.floatErrorModel).toBe('rigorous');
    model.freeze();
    const file: ExportedModel = { format: MODEL_FORMAT, input: { shape: [1, 2, 1], range: [0, 1] as [number, number] }, layers: await model.exportLayers([1, 2, 1]), lipschitzUpperBound: 0 };
    model.unfreeze();
    const images = tf.tensor4d(testSet.images, [testSet.count, 1, 2, 1]);
    const labels = tf.tensor1d(testSet.labels, 'int32');
    const report = await certifyExportedModel(file, images, labels, { epsilons });
    tf.dispose([images, labels]);
    expect(best.testAccuracy).toBe(report.clean);
    expect(best.lipschitzUpperBound).toBe(report.lipschitzUpperBound);
    for (const eps of epsilons) expect(best.certified?.[String(eps)], String(eps)).toBe(report.certified[String(eps)]);
    expect(best.certified?.['0.01']).toBeGreaterThan(0);
    // the old rule stays selectable, and says so in the log
    const assumed = await train(options({ model: tinyModel({ seed: 3 }), epochs: 1, epsilons, floatErrorModel: 'assume-relative-1e-5' }));
    expect(assumed.history[1].floatErrorModel).toBe('assume-relative-1e-5');
    expect(assumed.history[1].lipschitzUpperBound).toBeGreaterThan(result.history[1].lipschitzUpperBound as number);
    model.dispose();
  });

  it('rejects bad options', async () => {
    const model = tinyModel();
    await expect(train(options({ model, epochs: 0 }))).rejects.toThrow(/^train: epochs must be a positive integer, got 0/);
    await expect(train(options({ model, batchSize: 1.5 }))).rejects.toThrow(/^train: batchSize must be a positive integer, got 1.5/);
    await expect(train(options({ model, trainLimit: 0 }))).rejects.toThrow(/^train: trainLimit must be a positive integer, got 0/);
    await expect(train(options({ model, seed: 0.5 }))).rejects.toThrow(/^train: seed must be an integer, got 0.5/);
    await expect(train(options({ model, loss: 3 as never }))).rejects.toThrow(/^train: loss must be a function/);
    await expect(train(options({ model: {} as never }))).rejects.toThrow(/^train: model must be a LipschitzModule/);
    await expect(train(options({ model, trainSet: {} as never }))).rejects.toThrow(/^train: trainSet must be an image set/);
    await expect(train(options({ model, epsilons: [0] }))).rejects.toThrow(/^train: epsilons\[i\] must be a finite number > 0, got 0/);
    await expect(train(options({ model, floatErrorModel: 'none' as never }))).rejects.toThrow(/^train: floatErrorModel must be 'rigorous' \(default\) or 'assume-relative-1e-5', got "none"/);
    await expect(train(options({ model, resume: true, overwrite: true }))).rejects.toThrow(/^train: resume and overwrite exclude each other/);
    await expect(train(options({ model, runDir: 'x', store: memoryRunStore() }))).rejects.toThrow(/^train: pass either runDir or store/);
    await expect(train(options({ model, optimizer: { kind: 'sgd' } as never }))).rejects.toThrow(/^createOptimizer: kind must be one of/);
    await expect(train(options({ model, schedule: () => -1 }))).rejects.toThrow(/^train: schedule\(1\) must be a finite number > 0, got -1/);
    model.dispose();
  });
});
