export { complexSingularValues, singularValues, spectralNorm } from './host-svd';
export { choleskyQr2, orthonormalizeColumns } from './host-qr';
export { fft2d } from './fft';
export { convSingularValues, convSpectralNorm } from './conv-spectrum';
export {
  checkedInverse,
  checkedSolve,
  conditionNumber,
  inverse,
  solve,
  type ConditionCheckOptions,
} from './solve';
export { powerIteration, type PowerIterationOptions, type PowerIterationResult } from './power-iteration';
export { inverseSquareRoot, type InverseSquareRootOptions } from './inverse-square-root';
export { type ClipConvOptions, clipConvSingularValues } from './conv-clip';
export {
  type RealDftMatrices,
  kernelFromHalfSpectrum,
  realDftMatrices,
} from './real-dft';
export { complexPositiveRealInverse, positiveRealInverse } from './positive-real-inverse';
export { checkMatrixTensor, transposeLast } from './tensor-validate';
