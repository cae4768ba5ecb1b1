export { checkCatalogAgainstProfile } from './catalog-check.ts';
export {
  catalogSkeleton,
  guessInstall,
  hasProfile,
  profileNameOf,
  profileSkeleton,
} from './init.ts';
export {
  builtInProfilesDir,
  type FoundProfile,
  findProfileDir,
  findProfiles,
  listProfiles,
  loadProfile,
  type Profile,
  type ProfileSource,
  profileSearchPath,
  readProfileManifest,
} from './load.ts';
export { findProfileFor } from './recognise.ts';
export {
  type InstallProfile,
  type ProfileChoice,
  type ProfileRecord,
  profileDigest,
  readProfileRecord,
  recordProfile,
  resolveProfileForInstall,
} from './record.ts';
export type { ProfileManifest, VendorPacks } from './schema.ts';
