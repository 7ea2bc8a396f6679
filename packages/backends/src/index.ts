export { prepareBackend, type BackendName, type PreparedBackend } from './prepare-backend';
