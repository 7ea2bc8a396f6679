export { type CircularConv2dOptions, circularConv2d, circularPad, circularPadding, type KernelSize } from './circular-pad';
export { circularConv2dAdjoint } from './circular-conv2d-adjoint';
export { invertibleDownsample, invertibleUpsample, referenceToOursChannelPermutation } from './invertible-downsample';
export { symmetricProjector } from './symmetric-projector';
export { blockConv, blockOrth, blockOrth1d } from './block-conv';
export {
  bcopInitialParams,
  bcopParamsShape,
  type BcopInitialParamsOptions,
  type BcopShape,
} from './bcop-initial-params';
export { bcopKernelFromOrthogonal } from './bcop-kernel-from-orthogonal';
export { bcopKernel, type BcopKernelOptions } from './bcop-kernel';
