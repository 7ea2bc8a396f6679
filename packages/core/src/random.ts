import { LipschitzError } from './errors';

/** The serialisable state of a {@link SeededRandom}: four 32-bit unsigned words. */
export type SeededRandomState = [number, number, number, number];

function splitMix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A small, fast, seeded pseudo-random generator (xoshiro128**, Blackman & Vigna 2018) whose state can
 * be saved and restored exactly, so that a resumed training run draws the same numbers as an
 * uninterrupted one.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(0);
 * rng.uniform(); rng.normal(); rng.shuffle([1, 2, 3]);
 * const saved = rng.state(); const again = SeededRandom.fromState(saved);
 * ```
 */
export class SeededRandom {
  private s: Uint32Array;

  /** @param seed any integer; equal seeds give equal sequences. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new LipschitzError('INVALID_ARGUMENT', `SeededRandom: seed must be an integer, got ${seed}.`);
    }
    const mix = splitMix32(seed);
    this.s = new Uint32Array([mix(), mix(), mix(), mix()]);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Restores a generator from {@link SeededRandom.state}. */
  static fromState(state: SeededRandomState): SeededRandom {
    if (!Array.isArray(state) || state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new LipschitzError('CORRUPT_DATA', 'SeededRandom.fromState: state must be four unsigned 32-bit integers.');
    }
    const rng = new SeededRandom(0);
    rng.s = new Uint32Array(state);
    return rng;
  }

  /** A copy of the current state, for checkpoints. */
  state(): SeededRandomState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal N(0, 1) by the Box–Muller transform. */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T, A extends { length: number; [i: number]: T }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle<number, Int32Array>(p);
  }

  /** An integer seed for tfjs random ops (`tf.randomNormal(shape, 0, 1, 'float32', seed)`). */
  seed(): number {
    return this.nextUint32() % 2147483647;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
