export { complexSingularValues, singularValues, spectralNorm } from './host-svd';
export { fft2d } from './fft';
export { convSingularValues, convSpectralNorm } from './conv-spectrum';
