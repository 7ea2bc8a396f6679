import { LipschitzError } from '@lipschitz/core';
import { BYTE_TO_UNIT } from './image-set';
import { type SplitLimits, type TrainTestSets, assertLimits, loadSplitsLazily, resolveDataDir } from './loader-common';
import { joinPath, readFileBytes } from './node-io';

/** Side of an STL-10 image (96×96×3). */
export const STL10_SIZE = 96;
/** Bytes per STL-10 image: 3·96·96. */
export const STL10_IMAGE_BYTES = 3 * 96 * 96;

/** The STL-10 class names, in label order (file labels 1..10 map to 0..9). */
export const STL10_CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'] as const;

/**
 * Parses an STL-10 image file (`train_X.bin`, `test_X.bin`, `unlabeled_X.bin`: uint8 images of 3×96×96,
 * each channel plane stored column-major — byte `c·9216 + x·96 + y` is channel `c`, row `y`, column `x`)
 * into NHWC float32 pixels `v / 255`. This is the reference reader's
 * `reshape(-1, 3, 96, 96).transpose(0, 3, 2, 1)`. Browser-safe.
 *
 * Throws `CORRUPT_DATA` (naming `source`) when the size is not a positive multiple of 27,648 bytes.
 *
 * @example
 * ```ts
 * const { images, count } = parseStl10Images(bytes, 'train_X.bin');
 * ```
 * @see A. Coates, H. Lee, A. Y. Ng, "An Analysis of Single-Layer Networks in Unsupervised Feature
 * Learning", AISTATS 2011 (STL-10; binary format as in the dataset's `stl10_input.py`).
 */
export function parseStl10Images(bytes: Uint8Array, source = 'the STL-10 image data'): { images: Float32Array; count: number } {
  return stlImages('parseStl10Images', bytes, source);
}

function stlImages(fn: string, bytes: Uint8Array, source: string) {
  if (!(bytes instanceof Uint8Array)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bytes must be a Uint8Array (the file's contents).`);
  }
  if (bytes.length === 0 || bytes.length % STL10_IMAGE_BYTES !== 0) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `${fn}: ${source} has ${bytes.length} bytes, not a positive multiple of the ${STL10_IMAGE_BYTES}-byte STL-10 image (truncated?). Download stl10_binary.tar.gz again.`,
    );
  }
  const count = bytes.length / STL10_IMAGE_BYTES;
  const images = new Float32Array(bytes.length);
  const n = STL10_SIZE;
  for (let i = 0; i < count; i++) {
    const base = i * STL10_IMAGE_BYTES;
    for (let c = 0; c < 3; c++) {
      const plane = base + c * n * n;
      for (let x = 0; x < n; x++) {
        const column = plane + x * n;
        for (let y = 0; y < n; y++) images[base + (y * n + x) * 3 + c] = BYTE_TO_UNIT[bytes[column + y]];
      }
    }
  }
  return { images, count };
}

/**
 * Parses an STL-10 label file (`train_y.bin`, `test_y.bin`: one byte per image, classes 1..10) into int32
 * labels 0..9. Browser-safe.
 *
 * Throws `CORRUPT_DATA` (naming `source`) when a label is outside 1..10 or the file is empty.
 *
 * @example
 * ```ts
 * const labels = parseStl10Labels(bytes, 'train_y.bin'); // values 0..9
 * ```
 * @see Coates, Lee, Ng, AISTATS 2011 (STL-10).
 */
export function parseStl10Labels(bytes: Uint8Array, source = 'the STL-10 label data'): Int32Array {
  return stlLabels('parseStl10Labels', bytes, source);
}

function stlLabels(fn: string, bytes: Uint8Array, source: string): Int32Array {
  if (!(bytes instanceof Uint8Array)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bytes must be a Uint8Array (the file's contents).`);
  }
  if (bytes.length === 0) {
    throw new LipschitzError('CORRUPT_DATA', `${fn}: ${source} is empty. Download stl10_binary.tar.gz again.`);
  }
  const labels = new Int32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const label = bytes[i];
    if (label < 1 || label > 10) {
      throw new LipschitzError(
        'CORRUPT_DATA',
        `${fn}: ${source} has label ${label} at index ${i}, outside 1..10 (STL-10 labels are 1-based). The file is damaged or is not an STL-10 label file.`,
      );
    }
    labels[i] = label - 1;
  }
  return labels;
}

/** Options of {@link stl10}. */
export interface Stl10Options extends SplitLimits {
  /** Directory with `train_X.bin`, `train_y.bin`, `test_X.bin`, `test_y.bin` (or its parent holding `stl10_binary/`). */
  dir: string;
}

const STL_HOW_TO_GET =
  'Download https://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz, unpack it (tar xzf) and pass { dir: ".../stl10_binary" }.';

/**
 * STL-10 (Coates, Lee, Ng 2011), labelled part: 5,000 training and 8,000 test 96×96×3 colour images of
 * 10 classes, read from the official binary files in `dir` (or `dir/stl10_binary`). Pixels `v / 255` in
 * [0, 1], NHWC; labels 0..9 (the files' 1..10 minus one). Memory: the full sets take 1.4 GB as float32;
 * a split with limit 0 (e.g. `testLimit: 0`) is not read at all. Node only; each split is cached per
 * process (shared, read-only arrays); limits keep the first examples.
 *
 * Throws `INVALID_ARGUMENT` without `dir`; `NOT_FOUND` (naming the file and the download) when a file is
 * missing; `CORRUPT_DATA` when a file is truncated, a label is out of range, or image and label counts
 * differ.
 *
 * @example
 * ```ts
 * const { train } = await stl10({ dir: '/data/stl10_binary', testLimit: 0 });
 * ```
 * @see Coates, Lee, Ng, "An Analysis of Single-Layer Networks in Unsupervised Feature Learning",
 * AISTATS 2011; reference-bcop §10 (the Wasserstein experiments use the STL-10 train split).
 */
export async function stl10(options: Stl10Options): Promise<TrainTestSets> {
  assertLimits('stl10', options);
  const dir = await resolveDataDir('stl10', options.dir, 'stl10_binary', 'train_X.bin');
  const shape = { height: STL10_SIZE, width: STL10_SIZE, channels: 3, numClasses: 10, name: 'stl10' };
  return loadSplitsLazily('stl10', `stl10:${dir}`, options, shape, async (name) => {
    const imagePath = joinPath(dir, `${name}_X.bin`);
    const labelPath = joinPath(dir, `${name}_y.bin`);
    // One after the other, so that a missing split always reports its image file first (deterministic).
    const imageBytes = await readFileBytes('stl10', imagePath, STL_HOW_TO_GET);
    const labelBytes = await readFileBytes('stl10', labelPath, STL_HOW_TO_GET);
    const { images, count } = stlImages('stl10', imageBytes, imagePath);
    const labels = stlLabels('stl10', labelBytes, labelPath);
    if (labels.length !== count) {
      throw new LipschitzError(
        'CORRUPT_DATA',
        `stl10: ${imagePath} holds ${count} images but ${labelPath} holds ${labels.length} labels. The files do not belong together; download them again.`,
      );
    }
    return { ...shape, images, labels, count, name: `stl10/${name}` };
  });
}
