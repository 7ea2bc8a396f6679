import { writeJsonAtomic } from '@lipschitz/app-kit';
import { LipschitzError } from '@lipschitz/core';
import { exactW1, npyToPointCloud, readNpy } from '@lipschitz/wasserstein';

/**
 * `wgan exact --a A.npy --b B.npy [--out FILE]`: the exact W1 between two equal-size empirical sets (rows
 * are points), in float64 by an optimal assignment. Prints the value as the last line.
 */
export async function exactCommand({ a, b, out }: { a: string; b: string; out?: string }): Promise<number> {
  const setA = npyToPointCloud(await readNpy(a), a);
  const setB = npyToPointCloud(await readNpy(b), b);
  if (setA.dim !== setB.dim) {
    throw new LipschitzError('SHAPE_MISMATCH', `${a} has points of dimension ${setA.dim} but ${b} has ${setB.dim}; they must match.`);
  }
  if (setA.count !== setB.count) {
    throw new LipschitzError('SHAPE_MISMATCH', `${a} has ${setA.count} points but ${b} has ${setB.count}; the exact solver needs equal sizes.`);
  }
  const started = performance.now();
  const { w1, n, dim } = exactW1(setA, setB);
  process.stderr.write(`exact W1 of ${n} points in ${dim} dimensions (${((performance.now() - started) / 1000).toFixed(2)} s)\n`);
  if (out) await writeJsonAtomic(out, { w1, n, dim });
  process.stdout.write(`${w1}\n`);
  return w1;
}
