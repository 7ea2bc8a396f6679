export { solveAssignment, type Assignment } from './assignment';
export { exactW1, type ExactW1Result } from './exact-w1';
export { parseNpy, serializeNpy, type NpyArray } from './npy';
export { npyToPointCloud, readNpy, writeNpy } from './npy-file';
export { checkPointCloud, euclideanCostMatrix, type PointCloud } from './point-cloud';
export { sinkhornW1, type SinkhornResult } from './sinkhorn';
export { criticGapOnPoints, criticGapOnSamples } from './critic-gap';
export { estimateW1, type EstimateW1Options, type EstimateW1Result } from './estimate-w1';
export { pointCloudRows, pointCloudSampler, type Sampler } from './sampler';
