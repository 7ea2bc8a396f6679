import { LipschitzError } from '@lipschitz/core';
import { BYTE_TO_UNIT } from './image-set';
import { type SplitLimits, type TrainTestSets, assertLimits, concatParts, loadSplitsLazily, resolveDataDir } from './loader-common';
import { joinPath, readFileBytes } from './node-io';

/** Bytes per CIFAR-10 binary record: 1 label byte + 3·32·32 pixel bytes (CHW). */
export const CIFAR10_RECORD_BYTES = 3073;

/** The CIFAR-10 class names, in label order. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/**
 * Parses one CIFAR-10 binary batch file (`data_batch_N.bin` / `test_batch.bin`: records of 1 label
 * byte followed by 3072 bytes — the red, green and blue 32×32 planes, each row-major) into NHWC
 * float32 pixels `v / 255` and int32 labels. The official files hold 10,000 records each; any whole
 * number of records is accepted. Browser-safe.
 *
 * Throws `CORRUPT_DATA` (naming `source`) when the size is not a positive multiple of 3073 bytes or a
 * label is above 9.
 *
 * @example
 * ```ts
 * const { images, labels, count } = parseCifar10Batch(bytes, 'data_batch_1.bin');
 * ```
 * @see A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009 (binary version).
 */
export function parseCifar10Batch(bytes: Uint8Array, source = 'the CIFAR-10 data'): { images: Float32Array; labels: Int32Array; count: number } {
  return cifarBatch('parseCifar10Batch', bytes, source);
}

function cifarBatch(fn: string, bytes: Uint8Array, source: string) {
  if (!(bytes instanceof Uint8Array)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bytes must be a Uint8Array (the file's contents).`);
  }
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new LipschitzError(
      'CORRUPT_DATA',
      `${fn}: ${source} has ${bytes.length} bytes, not a positive multiple of the ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 record (truncated, or not the binary version). Download cifar-10-binary.tar.gz again.`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Float32Array(count * 3072);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * CIFAR10_RECORD_BYTES;
    const label = bytes[base];
    if (label > 9) {
      throw new LipschitzError(
        'CORRUPT_DATA',
        `${fn}: ${source} has label ${label} in record ${r}, outside [0, 10). The file is damaged or is not CIFAR-10 (CIFAR-100 uses 2 label bytes).`,
      );
    }
    labels[r] = label;
    const out = r * 3072;
    for (let c = 0; c < 3; c++) {
      const plane = base + 1 + c * 1024;
      for (let p = 0; p < 1024; p++) images[out + p * 3 + c] = BYTE_TO_UNIT[bytes[plane + p]];
    }
  }
  return { images, labels, count };
}

/** Options of {@link cifar10}. */
export interface Cifar10Options extends SplitLimits {
  /** Directory with `data_batch_1.bin … data_batch_5.bin` and `test_batch.bin` (or its parent holding `cifar-10-batches-bin/`). */
  dir: string;
}

const CIFAR_HOW_TO_GET =
  'Download the binary version, https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, unpack it (tar xzf) and pass { dir: ".../cifar-10-batches-bin" }.';

/**
 * CIFAR-10 (Krizhevsky 2009): 50,000 training and 10,000 test 32×32×3 colour images of 10 classes, read
 * from the official binary files (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`) in `dir`
 * (or in `dir/cifar-10-batches-bin`). Pixels `v / 255` in [0, 1], NHWC; no normalization (as the
 * reference's `ToTensor()`). Augment training batches with `batches(train, { augment: 'cifar' })`.
 * Node only; each split is cached per process (shared, read-only arrays); limits keep the first
 * examples, and a split with limit 0 is not read.
 *
 * Throws `INVALID_ARGUMENT` without `dir`; `NOT_FOUND` (naming the file and the download) when a file is
 * missing; `CORRUPT_DATA` when one is truncated or has a bad label.
 *
 * @example
 * ```ts
 * const { train, test } = await cifar10({ dir: '/data/cifar-10-batches-bin', trainLimit: 5000 });
 * ```
 * @see A. Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009; reference-bcop §8.
 */
export async function cifar10(options: Cifar10Options): Promise<TrainTestSets> {
  assertLimits('cifar10', options);
  const dir = await resolveDataDir('cifar10', options.dir, 'cifar-10-batches-bin', 'test_batch.bin');
  const shape = { height: 32, width: 32, channels: 3, numClasses: 10, name: 'cifar10' };
  return loadSplitsLazily('cifar10', `cifar10:${dir}`, options, shape, async (split) => {
    const read = async (path: string) => cifarBatch('cifar10', await readFileBytes('cifar10', path, CIFAR_HOW_TO_GET), path);
    const files = split === 'train' ? [1, 2, 3, 4, 5].map((i) => joinPath(dir, `data_batch_${i}.bin`)) : [joinPath(dir, 'test_batch.bin')];
    // In order, so that the first missing or corrupt file is the one reported (deterministic).
    const parts = [];
    for (const file of files) parts.push(await read(file));
    return { ...shape, ...(parts.length === 1 ? parts[0] : concatParts(parts, 3072)), name: `cifar10/${split}` };
  });
}
