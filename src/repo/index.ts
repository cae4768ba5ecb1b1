/**
 * The repository: a folder (or the static HTTP site serving it) of signed, versioned, expiring
 * metadata listing catalogs and packs, with root keys that rotate by threshold. The publisher's
 * commands and the client's trust update. See docs/repository.md.
 */

/** The time expiry and freeze checks take as now; a test may inject it (util's setFaults). */
export { currentTime } from '../util/index.ts';
export {
  type MetadataReader,
  type RefreshOptions,
  type RefreshResult,
  refreshRepository,
} from './client.ts';
export { fsyncDir, writeDurably } from './durable.ts';
export { repositoryIdentity } from './identity.ts';
export {
  type AddOptions,
  type AddResult,
  addToRepository,
  type FileAttributes,
  type InitOptions,
  type InitResult,
  initRepository,
  type PublishOptions,
  type PublishResult,
  publishIndex,
  type RotateOptions,
  type RotateResult,
  rotateRoot,
} from './manage.ts';
export {
  canonicalBytes,
  encodeEnvelope,
  type IndexMetadata,
  isoSeconds,
  keysOf,
  maxMetadataBytes,
  parseExpiry,
  parseIndex,
  parseRoot,
  publicKeyOf,
  type RootMetadata,
  signMetadata,
} from './metadata.ts';
export type { CatalogEntry, IndexSigned, PackEntry, RootSigned } from './schema.ts';
export { type RepositoryServer, type ServeOptions, serveRepository } from './serve.ts';
export { stateBaseDir } from './state.ts';
