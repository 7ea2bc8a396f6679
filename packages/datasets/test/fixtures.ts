import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Builds an IDX file by hand: big-endian magic, big-endian uint32 dims, raw bytes. */
export function idxFile(magic: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint32(0, magic, false);
  for (const [i, d] of dims.entries()) header.setUint32(4 + 4 * i, d, false);
  const out = new Uint8Array(header.byteLength + data.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(Uint8Array.from(data), header.byteLength);
  return out;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** A deterministic byte pattern (no dependency on the package's RNG). */
export function bytePattern(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 37 + salt * 101 + ((i * i) % 13)) & 0xff;
  return out;
}

/** A temporary directory removed by the returned cleanup; `write` takes a path relative to it. */
export function tempDir(prefix: string): { dir: string; write: (name: string, bytes: Uint8Array) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lipschitz-datasets-${prefix}-`));
  return {
    dir,
    write: (name, bytes) => {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Builds a CIFAR-10 binary batch: per record, a label byte then the R, G, B planes (row-major 32×32). */
export function cifarFile(labels: number[], planes: (record: number, channel: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) out[r * 3073 + 1 + c * 1024 + y * 32 + x] = planes(r, c, y, x);
  });
  return out;
}

/** Builds an STL-10 image file: per image, 3 planes of 96×96 stored column-major (x outer, y inner). */
export function stlFile(count: number, pixel: (image: number, channel: number, y: number, x: number) => number): Uint8Array {
  const out = new Uint8Array(count * 27648);
  let at = 0;
  for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) for (let x = 0; x < 96; x++) for (let y = 0; y < 96; y++) out[at++] = pixel(i, c, y, x);
  return out;
}
