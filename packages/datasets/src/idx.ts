import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';
import { BYTE_TO_UNIT } from './image-set';
import { gunzip, isGzip, readFileBytes } from './node-io';

/** The contents of an IDX file of unsigned bytes: its dimensions and its raw values (row-major). */
export interface IdxArray {
  /** Dimensions from the header, e.g. `[60000, 28, 28]` for MNIST's training images. */
  dims: number[];
  /** The `dims[0]·dims[1]·…` raw bytes after the header (a view of the input, no copy). */
  data: Uint8Array;
}

/** Magic number of an IDX file of unsigned-byte images (`0x00000803`: type 0x08, 3 dimensions). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of unsigned-byte labels (`0x00000801`: type 0x08, 1 dimension). */
export const IDX_LABELS_MAGIC = 0x00000801;

function hex(word: number): string {
  return `0x${(word >>> 0).toString(16).padStart(8, '0')}`;
}

function describeMagic(word: number): string {
  if (word === IDX_IMAGES_MAGIC) return ' (an IDX image file)';
  if (word === IDX_LABELS_MAGIC) return ' (an IDX label file)';
  if (word >>> 16 === 0x1f8b) return ' (a gzip file)';
  return '';
}

function corrupt(fn: string, source: string, what: string): LipschitzError {
  return new LipschitzError('CORRUPT_DATA', `${fn}: ${source} ${what}`);
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function parseIdxAs(fn: string, bytes: Uint8Array, source: string, expectedMagic?: number): IdxArray {
  if (!(bytes instanceof Uint8Array)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: bytes must be a Uint8Array (the file's contents).`);
  }
  if (isGzip(bytes)) {
    throw corrupt(fn, source, 'is gzip-compressed. Decompress it first (readIdx/readIdxImages/readIdxLabels do this for you in Node).');
  }
  if (bytes.length < 4) throw corrupt(fn, source, `has ${bytes.length} bytes, too few for an IDX header (truncated?). Download the file again.`);
  const magic = readUint32BE(bytes, 0);
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw corrupt(
      fn,
      source,
      `has magic number ${hex(magic)}${describeMagic(magic)}, expected ${hex(expectedMagic)}${describeMagic(expectedMagic)}. Check that you passed the right file.`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw corrupt(fn, source, `has magic number ${hex(magic)}${describeMagic(magic)}: not an IDX file (the first two bytes must be 0). Check the file.`);
  }
  if (bytes[2] !== 0x08) {
    throw corrupt(fn, source, `has IDX element type 0x${bytes[2].toString(16).padStart(2, '0')}; only unsigned bytes (0x08) are supported.`);
  }
  const rank = bytes[3];
  if (rank < 1) throw corrupt(fn, source, 'declares 0 dimensions in its IDX header; at least 1 is needed.');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw corrupt(fn, source, `has ${bytes.length} bytes, too few for an IDX header of ${rank} dimensions (${headerBytes} bytes; truncated?). Download the file again.`);
  }
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = readUint32BE(bytes, 4 + 4 * i);
    dims.push(d);
    size *= d;
  }
  const expected = headerBytes + size;
  if (bytes.length !== expected) {
    const why = bytes.length < expected ? 'truncated' : 'with trailing bytes';
    throw corrupt(
      fn,
      source,
      `has ${bytes.length} bytes but its header [${dims.join(', ')}] needs exactly ${expected} (${why}). Download the file again.`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Parses the bytes of an uncompressed IDX file of unsigned bytes (LeCun's MNIST format: big-endian
 * magic `0x0000 08 <rank>`, then `rank` big-endian uint32 dimensions, then the values row-major).
 * Validates the magic number, the element type, and that the size is exactly `header + ∏ dims`.
 * Browser-safe (no file access). `data` is a view of `bytes`.
 *
 * Throws `CORRUPT_DATA` (message names `source`) for gzip input, a bad magic number, a truncated or
 * oversized file.
 *
 * @example
 * ```ts
 * const { dims, data } = parseIdx(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * ```
 * @see Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits" (file formats section).
 */
export function parseIdx(bytes: Uint8Array, source = 'the IDX data'): IdxArray {
  return parseIdxAs('parseIdx', bytes, source);
}

/**
 * Parses an uncompressed IDX image file (magic `0x00000803`, dims `[count, height, width]`) into NHWC
 * float32 pixels `v / 255` in [0, 1] with one channel. Browser-safe. The result is a new array.
 *
 * Throws `CORRUPT_DATA` for a wrong magic number, wrong size or gzip input.
 *
 * @example
 * ```ts
 * const { images, count, height, width } = parseIdxImages(bytes, 'train-images-idx3-ubyte');
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits".
 */
export function parseIdxImages(bytes: Uint8Array, source = 'the IDX image data'): { images: Float32Array; count: number; height: number; width: number } {
  return idxImages('parseIdxImages', bytes, source);
}

function idxImages(fn: string, bytes: Uint8Array, source: string) {
  const { dims, data } = parseIdxAs(fn, bytes, source, IDX_IMAGES_MAGIC);
  const images = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) images[i] = BYTE_TO_UNIT[data[i]];
  return { images, count: dims[0], height: dims[1], width: dims[2] };
}

/**
 * Parses an uncompressed IDX label file (magic `0x00000801`, dims `[count]`) into int32 labels, checking
 * every label is in `[0, numClasses)`. Browser-safe.
 *
 * Throws `CORRUPT_DATA` for a wrong magic number, wrong size, gzip input or an out-of-range label;
 * `INVALID_ARGUMENT` when `numClasses` is not a positive integer.
 *
 * @example
 * ```ts
 * const labels = parseIdxLabels(bytes, 'train-labels-idx1-ubyte', 10);
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits".
 */
export function parseIdxLabels(bytes: Uint8Array, source = 'the IDX label data', numClasses = 10): Int32Array {
  return idxLabels('parseIdxLabels', bytes, source, numClasses);
}

function idxLabels(fn: string, bytes: Uint8Array, source: string, numClasses: number): Int32Array {
  assertPositiveInteger(fn, 'numClasses', numClasses);
  const { data } = parseIdxAs(fn, bytes, source, IDX_LABELS_MAGIC);
  const labels = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const label = data[i];
    if (label >= numClasses) {
      throw corrupt(fn, source, `has label ${label} at index ${i}, outside [0, ${numClasses}). The file is damaged or is not a ${numClasses}-class label file.`);
    }
    labels[i] = label;
  }
  return labels;
}

/** Where to read IDX data from: a file path (Node) or the file's bytes. */
export type IdxInput = string | Uint8Array;

async function loadIdxBytes(fn: string, input: IdxInput, howToGet: string): Promise<{ bytes: Uint8Array; source: string }> {
  if (typeof input === 'string') {
    const raw = await readFileBytes(fn, input, howToGet);
    return { bytes: isGzip(raw) ? await gunzip(fn, raw, input) : raw, source: input };
  }
  if (!(input instanceof Uint8Array)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: input must be a file path or a Uint8Array of the file's bytes.`);
  }
  return { bytes: isGzip(input) ? await gunzip(fn, input, 'the gzip data') : input, source: 'the IDX data' };
}

/** Options of the IDX readers. */
export interface ReadIdxOptions {
  /** Appended to a `NOT_FOUND` message to say how to obtain the file. */
  howToGet?: string;
}

/**
 * Reads an IDX file of unsigned bytes, plain or gzipped (detected by the gzip magic `1f 8b`, decompressed
 * with `node:zlib`), from a path (Node only) or from bytes, and validates it like {@link parseIdx}.
 *
 * Throws `NOT_FOUND` for a missing file, `CORRUPT_DATA` for a damaged gzip stream or a malformed IDX file.
 *
 * @example
 * ```ts
 * const { dims } = await readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz'); // [10000]
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits".
 */
export async function readIdx(input: IdxInput, options: ReadIdxOptions = {}): Promise<IdxArray> {
  const { bytes, source } = await loadIdxBytes('readIdx', input, options.howToGet ?? '');
  return parseIdxAs('readIdx', bytes, source);
}

/**
 * Reads an IDX image file (plain or gzipped; path or bytes) into NHWC float32 pixels in [0, 1]
 * (`v / 255`, one channel). See {@link parseIdxImages}.
 *
 * Throws `NOT_FOUND` for a missing file; `CORRUPT_DATA` for a wrong magic number, wrong size or damaged gzip.
 *
 * @example
 * ```ts
 * const { images, count } = await readIdxImages('data/train-images-idx3-ubyte');
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits".
 */
export async function readIdxImages(
  input: IdxInput,
  options: ReadIdxOptions = {},
): Promise<{ images: Float32Array; count: number; height: number; width: number }> {
  return loadIdxImages('readIdxImages', input, options.howToGet ?? '');
}

/** The validated raw pixel bytes of an IDX image file, not yet converted, errors attributed to `fn`. @internal */
export async function loadIdxImageBytes(fn: string, input: IdxInput, howToGet: string): Promise<{ raw: Uint8Array; count: number; height: number; width: number }> {
  const { bytes, source } = await loadIdxBytes(fn, input, howToGet);
  const { dims, data } = parseIdxAs(fn, bytes, source, IDX_IMAGES_MAGIC);
  return { raw: data, count: dims[0], height: dims[1], width: dims[2] };
}

/** {@link readIdxImages} with errors attributed to `fn`. @internal */
export async function loadIdxImages(fn: string, input: IdxInput, howToGet: string) {
  const { bytes, source } = await loadIdxBytes(fn, input, howToGet);
  return idxImages(fn, bytes, source);
}

/**
 * Reads an IDX label file (plain or gzipped; path or bytes) into int32 labels in `[0, numClasses)`.
 * See {@link parseIdxLabels}.
 *
 * Throws `NOT_FOUND` for a missing file; `CORRUPT_DATA` for a wrong magic number, wrong size, damaged
 * gzip or an out-of-range label.
 *
 * @example
 * ```ts
 * const labels = await readIdxLabels('data/train-labels-idx1-ubyte', { numClasses: 10 });
 * ```
 * @see LeCun et al., "The MNIST database of handwritten digits".
 */
export async function readIdxLabels(input: IdxInput, options: ReadIdxOptions & { numClasses?: number } = {}): Promise<Int32Array> {
  return loadIdxLabels('readIdxLabels', input, options.howToGet ?? '', options.numClasses ?? 10);
}

/** {@link readIdxLabels} with errors attributed to `fn`. @internal */
export async function loadIdxLabels(fn: string, input: IdxInput, howToGet: string, numClasses: number): Promise<Int32Array> {
  const { bytes, source } = await loadIdxBytes(fn, input, howToGet);
  return idxLabels(fn, bytes, source, numClasses);
}
