import { UpliftError } from '../errors/index.ts';
import { listProfiles, loadProfile, type Profile } from '../profile/index.ts';
import type { DetectedFacts, DetectOptions } from './types.ts';

// The light entry: `uplift plan` without --install never loads the readers (XML, properties,
// SQLite), so they are imported on first use.

export { mergeFacts, setFact } from './fact-path.ts';
export type { CustomizedFiles, VendorManifest } from './manifest.ts';
export type { Detection } from './schema.ts';
export type { DetectedFacts, DetectOptions, ServiceState } from './types.ts';

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

/**
 * The built-in profile whose version file the folder has. Throws UPLIFT_DETECT_NOT_INSTALLATION
 * when none has, and UPLIFT_USAGE when several do (then `--profile` decides).
 */
export async function findProfileFor(installDir: string): Promise<Profile> {
  const { isInstallationOf } = await import('./detect.ts');
  const names = await listProfiles();
  const profiles = await Promise.all(names.map((n) => loadProfile(n)));
  const matching: Profile[] = [];
  for (const p of profiles) if (await isInstallationOf(p, installDir)) matching.push(p);
  if (matching.length === 1) return matching[0] as Profile;
  if (matching.length > 1) {
    throw new UpliftError(
      'UPLIFT_USAGE',
      `${installDir} looks like an installation of ${matching.map((p) => p.manifest.name).join(' and ')}`,
      { hint: `say which with --profile ${matching[0]?.manifest.name}` },
    );
  }
  const looked = profiles
    .filter((p) => p.manifest.detection)
    .map((p) => `${p.manifest.detection?.version.file} (${p.manifest.name})`);
  throw new UpliftError(
    'UPLIFT_DETECT_NOT_INSTALLATION',
    `${installDir} is not an installation of a known product: no ${looked.join(', no ')}`,
    {
      location: { file: installDir },
      hint: 'give the installation directory itself, or the product with --profile',
    },
  );
}
