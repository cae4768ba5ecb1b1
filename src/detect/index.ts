import type { Profile } from '../profile/index.ts';
import type { DetectedFacts, DetectOptions } from './types.ts';

// The light entry: `uplift plan` without --install never loads the readers (XML, properties,
// SQLite), so they are imported on first use.

export { mergeFacts, setFact } from './fact-path.ts';
export type { CustomizedFiles, VendorManifest } from './manifest.ts';
export type { Detection, VersionSource } from './schema.ts';
export type { DetectedFacts, DetectOptions, ServiceState } from './types.ts';
export { describeVersionSource } from './version-name.ts';

/**
 * Reads an installation's facts as the profile's `detection` section describes (docs/detection.md).
 * Throws UPLIFT_DETECT_NOT_INSTALLATION when the folder lacks the profile's version file, and
 * UPLIFT_DETECT_CONFIG naming file:line when a configuration file cannot be parsed.
 */
export async function detectFacts(
  profile: Profile,
  installDir: string,
  opts: DetectOptions = {},
): Promise<DetectedFacts> {
  const { detectFacts: detect } = await import('./detect.ts');
  return detect(profile, installDir, opts);
}

/** The installed version as the profile's version source reads it, or undefined. */
export async function installedVersion(
  profile: Profile,
  installDir: string,
): Promise<string | undefined> {
  const v = profile.manifest.detection?.version;
  if (!v) return undefined;
  const { readVersionSource } = await import('./version-source.ts');
  return (await readVersionSource(v, installDir)).version;
}

/** True when the folder has the profile's version file, with a version its pattern reads. */
export async function isInstallationOf(profile: Profile, installDir: string): Promise<boolean> {
  const { isInstallationOf: is } = await import('./detect.ts');
  return is(profile, installDir);
}
