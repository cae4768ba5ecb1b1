// skiff's public API for uplift: release trees, installations and the sample installation.
// The server itself (lib/ of a release) is not imported from here; it runs as its own process.
export { addAccount } from './accounts.ts';
export {
  getInstallationStatus,
  type Health,
  type InstallationStatus,
  installRelease,
  probeHealth,
  readServerUrl,
  startInstallation,
  stopInstallation,
} from './install.ts';
export type { ReleaseFeatures, ReleaseInfo } from './release.ts';
export { buildReleaseTree, type ReleaseManifest, type ReleaseTree } from './release-tree.ts';
export {
  ensureSampleInstallation,
  type SampleAccount,
  type SampleInstallation,
  type SampleOptions,
  sampleAccounts,
  stopSampleInstallation,
} from './sample.ts';
export {
  featuresFor,
  findRelease,
  isAtLeast,
  listReleases,
  releaseSlug,
  SkiffError,
  type SkiffRelease,
} from './versions.ts';
