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
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmTrainingKernelName,
} from './wasm-training-kernels';
