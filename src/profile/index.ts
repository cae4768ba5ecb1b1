export { builtInProfilesDir, listProfiles, loadProfile, type Profile } from './load.ts';
export { ProfileManifest } from './schema.ts';
