// @shipgate/image: image tags, build and push, promotion and rollback by registry API, and the OCI
// registry client they use.
export { computeTags, imageErrorExitCode, imageStep, parseFlavor, parseTagRules, promoteImage, readImageHistory, rollbackImage } from './image/index.js';
export type { RegistryAccessOptions } from './image/index.js';
export { parseKeyValueLines } from './image/tags.js';
export type { RegistryCredentials } from './oci/auth.js';
export { ecrLoginFor, parseEcrHost } from './oci/ecr.js';
export { parseImageReference } from './oci/reference.js';
export { RegistryClient } from './oci/client.js';
export type { FetchFunction, RegistryClientOptions } from './oci/client.js';
