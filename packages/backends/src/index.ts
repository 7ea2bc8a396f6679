export {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendName,
  type PrepareBackendOptions,
  type PreparedBackend,
  prepareBackend,
  type RuntimeEnvironment,
  type WasmBinaryName,
} from './prepare-backend';
export {
  registerWasmTrainingKernels,
  setWasmConvFilterGradFormulation,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmConvFilterGradFormulation,
  type WasmTrainingKernelName,
} from './wasm-training-kernels';
