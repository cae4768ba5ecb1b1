export { builtInProfilesDir, listProfiles, loadProfile, type Profile } from './load.ts';
export type { ProfileManifest } from './schema.ts';
