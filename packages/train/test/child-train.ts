// Run in a child process by kill.test.ts (bundled with esbuild): trains into argv[2] on the cpu backend,
// prints "checkpoint <step>" after each checkpoint, and slows down after the first mid-training one so the
// parent can kill it with SIGKILL in the middle of an epoch.
import { prepareBackend } from '@lipschitz/backends';
import { train } from '../src';
import { blobs, hingeLoss, tinyModel } from './fixtures';

const dir = process.argv[2];
await prepareBackend('cpu');
let slow = false;
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
  onProgress: (event) => {
    if (event.type === 'checkpoint') {
      process.stdout.write(`checkpoint ${event.step}\n`);
      if (event.step > 0) slow = true;
    }
  },
});
process.stdout.write('done\n');
