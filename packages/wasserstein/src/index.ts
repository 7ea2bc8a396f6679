export { solveAssignment, type Assignment } from './assignment';
export { exactW1, type ExactW1Result } from './exact-w1';
export { parseNpy, serializeNpy, type NpyArray } from './npy';
export { npyToPointCloud, readNpy, writeNpy } from './npy-file';
export { checkPointCloud, euclideanCostMatrix, type PointCloud } from './point-cloud';
export { sinkhornW1, type SinkhornResult } from './sinkhorn';
