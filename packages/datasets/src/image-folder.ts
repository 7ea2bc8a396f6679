import { LipschitzError, assertNonNegativeInteger } from '@lipschitz/core';
import { decodeImage } from './image-decode';
import type { ImageSet } from './image-set';
import { type SplitLimits, type TrainTestSets, assertLimits, cached } from './loader-common';
import { gunzip, isDirectory, isGzip, joinPath, listDirectory, readFileBytes } from './node-io';
import { parseTar } from './tar-archive';

/** Options of {@link imageFolder}. */
export interface ImageFolderOptions extends SplitLimits {
  /**
   * A directory, or a `.tar` / `.tar.gz` archive, holding `<split>/<class>/<image file>` — for example
   * `train/cat/0001.jpg` (JPEG or PNG; other files are ignored).
   */
  path: string;
  /** Class folder names in label order (default: the class folders found in the training split, sorted by name). */
  classes?: readonly string[];
  /** Channels of the result: 3 (RGB, default) or 1 (luma). */
  channels?: 1 | 3;
  /** Names of the split folders (default `{ train: 'train', test: 'test' }`). */
  splits?: { train: string; test: string };
  /** A name for the sets (default: the last part of `path`). */
  name?: string;
}

const IMAGE_FILE = /\.(jpe?g|png)$/i;

/** `<split>/<class>/<file>` → bytes, from a directory tree or an archive. */
type FileSource = (split: string) => Promise<Map<string, { file: string; read: () => Promise<Uint8Array> }[]>>;

async function directorySource(fn: string, root: string): Promise<FileSource> {
  return async (split) => {
    const dir = joinPath(root, split);
    if (!(await isDirectory(fn, dir))) {
      throw new LipschitzError('NOT_FOUND', `${fn}: ${root} has no "${split}" folder. Expected ${root}/${split}/<class>/<image>; pass splits: { train, test } to name the folders.`);
    }
    const classes = new Map<string, { file: string; read: () => Promise<Uint8Array> }[]>();
    for (const entry of await listDirectory(fn, dir)) {
      if (!entry.directory) continue;
      const classDir = joinPath(dir, entry.name);
      const files = (await listDirectory(fn, classDir)).filter((f) => !f.directory && IMAGE_FILE.test(f.name));
      classes.set(
        entry.name,
        files.map((f) => ({ file: `${split}/${entry.name}/${f.name}`, read: () => readFileBytes(fn, joinPath(classDir, f.name), 'The folder changed while it was read.') })),
      );
    }
    return classes;
  };
}

async function archiveSource(fn: string, path: string): Promise<FileSource> {
  let bytes = await readFileBytes(fn, path, 'Pass the path of a folder or a .tar/.tar.gz archive of <split>/<class>/<image> files.');
  if (isGzip(bytes)) bytes = await gunzip(fn, bytes, path);
  const entries = parseTar(bytes, path, fn);
  // Accept one extra top-level folder (e.g. `cifar10/train/cat/1.jpg`) when the splits are not at the top.
  return async (split) => {
    const classes = new Map<string, { file: string; read: () => Promise<Uint8Array> }[]>();
    for (const e of entries) {
      const parts = e.path.split('/');
      const at = parts.length >= 3 && parts[parts.length - 3] === split ? parts.length - 3 : -1;
      if (at < 0 || at > 1 || !IMAGE_FILE.test(parts[parts.length - 1])) continue;
      const cls = parts[parts.length - 2];
      const data = e.data;
      if (!classes.has(cls)) classes.set(cls, []);
      classes.get(cls)?.push({ file: e.path, read: async () => data });
    }
    if (classes.size === 0) {
      throw new LipschitzError('NOT_FOUND', `${fn}: ${path} holds no ${split}/<class>/<image> files. Pass splits: { train, test } to name the split folders.`);
    }
    for (const files of classes.values()) files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return classes;
  };
}

/**
 * Interleaves the classes' sorted file lists (the k-th file of every class, class by class), so that the first N
 * examples of a split — what `trainLimit`/`testLimit` keep — are balanced across classes.
 */
function interleave<T>(lists: T[][]): { item: T; label: number }[] {
  const out: { item: T; label: number }[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let k = 0; k < longest; k++) {
    for (let c = 0; c < lists.length; c++) if (k < lists[c].length) out.push({ item: lists[c][k], label: c });
  }
  return out;
}

async function loadSplit(fn: string, source: FileSource, split: string, classes: readonly string[], channels: 1 | 3, limit: number | undefined, name: string): Promise<ImageSet> {
  const found = await source(split);
  for (const cls of found.keys()) {
    if (!classes.includes(cls)) {
      throw new LipschitzError('CORRUPT_DATA', `${fn}: the ${split} split has a class folder "${cls}" that is not among the classes [${classes.join(', ')}]. Pass classes to list every class, or remove the folder.`);
    }
  }
  const ordered = interleave(classes.map((c) => found.get(c) ?? []));
  const count = limit === undefined ? ordered.length : Math.min(limit, ordered.length);
  let height = 0;
  let width = 0;
  let images = new Float32Array(0);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const { item, label } = ordered[i];
    const decoded = decodeImage(await item.read(), channels, item.file);
    if (i === 0) {
      height = decoded.height;
      width = decoded.width;
      images = new Float32Array(count * height * width * channels);
    } else if (decoded.height !== height || decoded.width !== width) {
      throw new LipschitzError(
        'SHAPE_MISMATCH',
        `${fn}: ${item.file} is ${decoded.width}×${decoded.height} but the first image is ${width}×${height}. Every image must have the same size: resize the files (or load them and use resizeImages).`,
      );
    }
    images.set(decoded.pixels, i * height * width * channels);
    labels[i] = label;
  }
  return { images, labels, count, height, width, channels, numClasses: classes.length, name: `${name}/${split}${limit !== undefined && limit < ordered.length ? `[0:${count}]` : ''}` };
}

/**
 * Loads a **folder of class-named image folders** — `<split>/<class>/<image>` as JPEG or PNG files, in a directory
 * or a `.tar`/`.tar.gz` archive (read in memory) — as a train/test pair of {@link ImageSet}s: NHWC float32 in [0, 1]
 * (`ToTensor()`), label = the index of the class folder in `classes` (default: the training split's class folders
 * sorted by name, as torchvision's `ImageFolder`). Within a split the classes' files (sorted by name) are
 * interleaved, so `trainLimit`/`testLimit` keep a class-balanced prefix. Every image must have the same size.
 * Node only (reads files); results are cached per process.
 *
 * This reads, for example, the CIFAR-10 JPEG copy (`train/<class>/NNNN.jpg`, `test/…`), whose sorted class names
 * are CIFAR-10's official label order — or a user's own images.
 *
 * @throws LipschitzError `NOT_FOUND` (no such path / split folder), `CORRUPT_DATA` (a file that does not decode, a
 *   damaged archive, an unknown class folder), `SHAPE_MISMATCH` (images of different sizes), `INVALID_ARGUMENT`.
 * @example
 * ```ts
 * const { train, test } = await imageFolder({ path: 'data/cifar10-jpeg-q75.tar.gz', testLimit: 1000 });
 * ```
 * @see torchvision.datasets.ImageFolder; Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009.
 */
export async function imageFolder(options: ImageFolderOptions): Promise<TrainTestSets> {
  const fn = 'imageFolder';
  assertLimits(fn, options);
  const { path } = options;
  if (typeof path !== 'string' || path === '') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: path must be a folder or a .tar/.tar.gz archive of <split>/<class>/<image> files, got ${String(path)}.`);
  }
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new LipschitzError('INVALID_ARGUMENT', `${fn}: channels must be 1 or 3, got ${String(channels)}.`);
  const splits = options.splits ?? { train: 'train', test: 'test' };
  if (options.classes !== undefined && (!Array.isArray(options.classes) || options.classes.length < 2 || new Set(options.classes).size !== options.classes.length)) {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: classes must list at least 2 distinct class folder names, got ${JSON.stringify(options.classes)}.`);
  }
  for (const limit of [options.trainLimit, options.testLimit]) if (limit !== undefined) assertNonNegativeInteger(fn, 'limit', limit);
  const name = options.name ?? path.replace(/[/\\]+$/, '').split(/[/\\]/).pop()?.replace(/\.tar(\.gz)?$|\.tgz$/, '') ?? 'images';
  const key = JSON.stringify([fn, path, options.classes, channels, splits, options.trainLimit, options.testLimit]);
  return cached(key, async () => {
    const source = (await isDirectory(fn, path)) ? await directorySource(fn, path) : await archiveSource(fn, path);
    const classes = options.classes ?? [...(await source(splits.train)).keys()].sort();
    if (classes.length < 2) throw new LipschitzError('CORRUPT_DATA', `${fn}: ${path} has ${classes.length} class folder(s) under ${splits.train}/; at least 2 are needed.`);
    const train = options.trainLimit === 0 ? emptySet(classes.length, channels, `${name}/${splits.train}[0:0]`) : await loadSplit(fn, source, splits.train, classes, channels, options.trainLimit, name);
    const test = options.testLimit === 0 ? emptySet(classes.length, channels, `${name}/${splits.test}[0:0]`) : await loadSplit(fn, source, splits.test, classes, channels, options.testLimit, name);
    if (train.count > 0 && test.count > 0 && (train.height !== test.height || train.width !== test.width)) {
      throw new LipschitzError('SHAPE_MISMATCH', `${fn}: training images are ${train.width}×${train.height} but test images are ${test.width}×${test.height}.`);
    }
    return { train, test };
  });
}

function emptySet(numClasses: number, channels: number, name: string): ImageSet {
  return { images: new Float32Array(0), labels: new Int32Array(0), count: 0, height: 0, width: 0, channels, numClasses, name };
}
