export { prepareBackend, type BackendName, type PreparedBackend } from './prepare-backend';
export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmTrainingKernelName,
} from './wasm-training-kernels';
