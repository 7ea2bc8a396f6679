import { packageConfig } from '@lipschitz/tooling/tsup';
import { defineConfig } from 'tsup';

// tfjs-core's gradient registrations are only reachable through a deep ESM import with extensionless
// specifiers, which plain Node cannot load. Bundling that one module (and the tfjs-core internals it
// imports) into dist makes `import '@lipschitz/backends'` register every gradient in plain Node too; the
// copies share tfjs's global engine and kernel/gradient registries. See README "Bundling".
export default defineConfig(packageConfig({ entry: ['src/index.ts', 'src/bundling.ts'], noExternal: [/^@tensorflow\/tfjs-core\/dist\/register_all_gradients/] }));
