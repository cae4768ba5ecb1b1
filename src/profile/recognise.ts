import { describeVersionSource, isInstallationOf } from '../detect/index.ts';
import { UpliftError } from '../errors/index.ts';
import { listProfiles, loadProfile, type Profile } from './load.ts';

/**
 * The profile (on the search path: `UPLIFT_PROFILE_PATH`, then the built-in ones) whose version
 * file the folder has. Throws UPLIFT_DETECT_NOT_INSTALLATION when none has, and UPLIFT_USAGE when
 * several do (then `--profile` decides).
 */
export async function findProfileFor(installDir: string): Promise<Profile> {
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
    .flatMap((p) => (p.manifest.detection ? [{ p, v: p.manifest.detection.version }] : []))
    .map(({ p, v }) => `${describeVersionSource(v)} (${p.manifest.name})`);
  throw new UpliftError(
    'UPLIFT_DETECT_NOT_INSTALLATION',
    `${installDir} is not an installation of a known product: no ${looked.join(', no ')}`,
    {
      location: { file: installDir },
      hint: 'give the installation directory itself, or the product with --profile (a name or a profile folder)',
    },
  );
}
