import { LipschitzError, assertPositiveInteger } from '@lipschitz/core';

/** @internal Checks a row-major `rows × cols` host matrix argument. */
export function checkHostMatrix(fn: string, name: string, values: ArrayLike<number>, rows: number, cols: number): void {
  assertPositiveInteger(fn, 'rows', rows);
  assertPositiveInteger(fn, 'cols', cols);
  if (values == null || typeof values.length !== 'number') {
    throw new LipschitzError('INVALID_ARGUMENT', `${fn}: ${name} must be an array of numbers. Pass a row-major array of rows*cols values.`);
  }
  if (values.length !== rows * cols) {
    throw new LipschitzError(
      'SHAPE_MISMATCH',
      `${fn}: ${name} has ${values.length} values but rows*cols = ${rows}*${cols} = ${rows * cols}. Pass a row-major array of rows*cols values.`,
    );
  }
}

/** @internal Throws NUMERICAL_ERROR when any value is NaN or infinite. */
export function checkFinite(fn: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new LipschitzError('NUMERICAL_ERROR', `${fn}: ${name}[${i}] is ${values[i]}. Pass finite values (check the model weights for NaN/Infinity).`);
    }
  }
}
