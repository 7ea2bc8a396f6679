// Run in a child process by kill.test.ts (bundled with esbuild): trains into argv[2] on the cpu backend,
// prints "checkpoint <step>" after each checkpoint, and slows down after the first mid-training one so the
// parent can kill it with SIGKILL in the middle of an epoch. argv[3] = 'ossn' trains the OSSN network of
// ossn-fixtures.ts (non-trainable state) instead of the tiny model.
import { prepareBackend } from '@lipschitz/backends';
import { type TrainOptions, train } from '../src';
import { blobs, hingeLoss, tinyModel } from './fixtures';
import { ossnData, ossnNetwork } from './ossn-fixtures';

const dir = process.argv[2];
const variant = process.argv[3] ?? 'tiny';
await prepareBackend('cpu');
let slow = false;
const onProgress: TrainOptions['onProgress'] = (event) => {
  if (event.type === 'checkpoint') {
    process.stdout.write(`checkpoint ${event.step}\n`);
    if (event.step > 0) slow = true;
  }
};
if (variant === 'ossn') {
  const model = ossnNetwork();
  const afterStep = model.afterStep.bind(model);
  model.afterStep = async (step, context) => {
    await afterStep(step, context);
    if (slow) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  await train({
    model,
    ...ossnData(),
    loss: hingeLoss(),
    optimizer: { kind: 'adam', learningRate: 0.05 },
    epochs: 3,
    batchSize: 16,
    seed: 6,
    epsilons: [0.05],
    checkpointEvery: 3,
    runDir: dir,
    onProgress,
  });
} else {
  await train({
    model: tinyModel({ seed: 3, afterStepDelayMs: () => (slow ? 50 : 0) }),
    trainSet: blobs(150, { seed: 1 }),
    testSet: blobs(60, { seed: 2 }),
    loss: hingeLoss(),
    optimizer: { kind: 'adam', learningRate: 0.02 },
    epochs: 4,
    batchSize: 32,
    seed: 5,
    epsilons: [0.05],
    checkpointEvery: 3,
    runDir: dir,
    onProgress,
  });
}
process.stdout.write('done\n');
