// tfjs-core's Node entry does not register gradients (runtime.md). This side-effect import does; it
// works under vitest and in bundles (the apps' tsup configs bundle it). Kept in one place on purpose.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
