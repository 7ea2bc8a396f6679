import { cliBundleConfig } from '@lipschitz/tooling/tsup';
import { defineConfig } from 'tsup';
import * as bundling from '../../packages/backends/src/bundling';

export default defineConfig(cliBundleConfig(import.meta.dirname, bundling));
