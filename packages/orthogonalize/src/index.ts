export { BJORCK_DEFAULTS, bjorck, type BjorckOptions, type BjorckScaling } from './bjorck';
