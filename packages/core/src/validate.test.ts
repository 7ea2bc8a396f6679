import { describe, expect, it } from 'vitest';
import { LipschitzError } from './errors';
import {
  assertFiniteNumber,
  assertInRange,
  assertNonNegativeInteger,
  assertNotDisposed,
  assertOneOf,
  assertPositiveInteger,
  assertPositiveNumber,
  assertRank,
  assertShape,
} from './validate';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    return LipschitzError.isInstance(e) ? e.code : 'not a LipschitzError';
  }
  return undefined;
}

describe('validators', () => {
  it('assertPositiveInteger', () => {
    expect(() => assertPositiveInteger('bjorck', 'iterations', 3)).not.toThrow();
    expect(() => assertPositiveInteger('bjorck', 'iterations', 0)).toThrow(
      /^bjorck: iterations must be a positive integer, got 0\. Pass an integer >= 1\.$/,
    );
    expect(() => assertPositiveInteger('f', 'n', 1.5)).toThrow(/got 1\.5/);
    expect(() => assertPositiveInteger('f', 'n', '2')).toThrow(/got "2"/);
    expect(codeOf(() => assertPositiveInteger('f', 'n', -1))).toBe('INVALID_ARGUMENT');
  });

  it('assertNonNegativeInteger', () => {
    expect(() => assertNonNegativeInteger('f', 'n', 0)).not.toThrow();
    expect(() => assertNonNegativeInteger('f', 'n', -1)).toThrow(/^f: n must be a non-negative integer, got -1/);
  });

  it('assertFiniteNumber and assertPositiveNumber', () => {
    expect(() => assertFiniteNumber('f', 'x', -2.5)).not.toThrow();
    expect(() => assertFiniteNumber('f', 'x', Number.NaN)).toThrow(/^f: x must be a finite number, got NaN\.$/);
    expect(() => assertPositiveNumber('f', 'lr', 0)).toThrow(/^f: lr must be a finite number > 0, got 0\.$/);
    expect(() => assertPositiveNumber('f', 'lr', Number.POSITIVE_INFINITY)).toThrow(/got Infinity/);
    expect(() => assertPositiveNumber('f', 'lr', 1e-3)).not.toThrow();
  });

  it('assertInRange with inclusive and exclusive bounds', () => {
    expect(() => assertInRange('f', 'beta', 0.5, 0, 0.5)).not.toThrow();
    expect(() => assertInRange('f', 'beta', 0, 0, 0.5, { minExclusive: true })).toThrow(
      /^f: beta must be in \(0, 0\.5\], got 0\.$/,
    );
    expect(() => assertInRange('f', 'p', 1, 0, 1, { maxExclusive: true })).toThrow(/\[0, 1\)/);
  });

  it('assertOneOf', () => {
    expect(() => assertOneOf('f', 'conv', 'bcop', ['bcop', 'rko'])).not.toThrow();
    expect(() => assertOneOf('f', 'conv', 'xyz', ['bcop', 'rko'])).toThrow(
      /^f: conv must be one of "bcop", "rko", got "xyz"\.$/,
    );
  });

  it('assertRank and assertShape', () => {
    expect(() => assertRank('f', 'x', [2, 3], 2)).not.toThrow();
    expect(() => assertRank('f', 'x', [2, 3], [3, 4])).toThrow(/^f: x must have rank 3 or 4, got rank 2 \(shape \[2, 3\]\)\.$/);
    expect(codeOf(() => assertRank('f', 'x', [1], 2))).toBe('SHAPE_MISMATCH');
    expect(() => assertShape('f', 'k', [3, 3, 2, 4], [3, 3, null, 4])).not.toThrow();
    expect(() => assertShape('f', 'k', [3, 3, 2, 4], [3, 3, 2, 5])).toThrow(/^f: k must have shape \[3, 3, 2, 5\], got \[3, 3, 2, 4\]\.$/);
    expect(() => assertShape('f', 'k', [3, 3], [3, 3, null])).toThrow(/\[3, 3, \*\]/);
  });

  it('assertNotDisposed', () => {
    expect(() => assertNotDisposed('layer.apply', false)).not.toThrow();
    expect(codeOf(() => assertNotDisposed('layer.apply', true))).toBe('DISPOSED');
    expect(() => assertNotDisposed('layer.apply', true)).toThrow(/^layer\.apply: this object was disposed/);
  });
});
