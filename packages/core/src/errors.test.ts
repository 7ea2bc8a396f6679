import { describe, expect, it } from 'vitest';
import { LipschitzError } from './errors';

describe('LipschitzError', () => {
  it('carries a code, a message and a name', () => {
    const e = new LipschitzError('INVALID_ARGUMENT', 'f: bad');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('f: bad');
    expect(e.name).toBe('LipschitzError');
  });

  it('isInstance recognises errors from another copy through the global symbol marker', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('lipschitz.error')]: true, code: 'CORRUPT_DATA' });
    expect(LipschitzError.isInstance(foreign)).toBe(true);
    expect(LipschitzError.isInstance(new LipschitzError('DISPOSED', 'y'))).toBe(true);
    expect(LipschitzError.isInstance(new Error('plain'))).toBe(false);
    expect(LipschitzError.isInstance(null)).toBe(false);
    expect(LipschitzError.isInstance('LipschitzError')).toBe(false);
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new LipschitzError('IO_ERROR', 'w', { cause }).cause).toBe(cause);
  });
});
