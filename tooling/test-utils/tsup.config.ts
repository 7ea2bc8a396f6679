import { packageConfig } from '@lipschitz/tooling/tsup';
import { defineConfig } from 'tsup';

export default defineConfig(packageConfig());
