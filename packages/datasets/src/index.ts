export { type ImageSet, classCounts, subset } from './image-set';
export { type ResizeOptions, resizeImages } from './resize';
export { type Batch, type BatchOptions, batches, numBatches } from './batches';
export { type AugmentFn, type RandomCropFlipOptions, cifarAugment, randomCropFlip } from './augment';
export {
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  type IdxInput,
  type ReadIdxOptions,
  parseIdx,
  parseIdxImages,
  parseIdxLabels,
  readIdx,
  readIdxImages,
  readIdxLabels,
} from './idx';
export type { SplitLimits, TrainTestSets } from './loader-common';
export { FASHION_MNIST_DEFAULT_DIR, type FashionMnistOptions, type MnistOptions, fashionMnist, mnist } from './mnist';
export { CIFAR10_CLASSES, CIFAR10_RECORD_BYTES, type Cifar10Options, cifar10, parseCifar10Batch } from './cifar10';
export { STL10_CLASSES, STL10_IMAGE_BYTES, STL10_SIZE, type Stl10Options, parseStl10Images, parseStl10Labels, stl10 } from './stl10';
export {
  type GaussianBlobsOptions,
  type PointSet,
  type SyntheticImagesOptions,
  type TwoMoonsOptions,
  gaussianBlobs,
  syntheticImages,
  translated,
  twoMoons,
} from './synthetic';
export { type ImageFolderOptions, imageFolder } from './image-folder';
export { type DecodedImage, decodeImage } from './image-decode';
export { type TarEntry, parseTar } from './tar-archive';
