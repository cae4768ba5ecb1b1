import { resolve } from 'node:path';
import { statePaths } from '../apply/index.ts';
import { UpliftError } from '../errors/index.ts';
import {
  type InstallProfile,
  type Profile,
  recordProfile,
  resolveProfileForInstall,
} from '../profile/index.ts';
import { resolveInstall } from './commands/install-arg.ts';

// `--profile NAME|DIR` beside `--install DIR`: the profile is the flag's, else the one recorded in
// the installation's state folder (src/apply/paths.ts), else the one that recognises it.

/** The profile for an installation (src/profile/record.ts), its warnings included. */
export async function profileForInstall(
  install: string,
  profile: string | undefined,
): Promise<InstallProfile> {
  // A missing installation is reported by what reads it next (detection says what it looked for).
  const dir = await resolveInstall(install).catch(() => resolve(install));
  return resolveProfileForInstall({ install: dir, stateDir: statePaths(dir).dir, profile });
}

/**
 * The same for the run commands (resume, rollback, status, history), which read their journal
 * without a profile: `undefined` when nothing records or recognises one; `install` is resolved.
 */
export async function recordedProfile(
  install: string,
  profile: string | undefined,
  recognise = true,
): Promise<InstallProfile | undefined> {
  return resolveProfileForInstall({
    install,
    stateDir: statePaths(install).dir,
    profile,
    optional: true,
    recognise,
  });
}

/**
 * What to hand a planner that takes a profile name or folder: with `--install`, the folder of the
 * installation's profile (so a recorded profile wins over recognition), else `--profile` as given.
 */
export async function profileArg(opts: {
  profile?: string;
  install?: string;
}): Promise<{ profile?: string; warnings: string[] }> {
  if (opts.install === undefined) return { profile: opts.profile, warnings: [] };
  const p = await profileForInstall(opts.install, opts.profile);
  return { profile: p.profile.dir, warnings: p.warnings };
}

/** Records the installation's profile in its state folder (`<parent>/.<name>.uplift/profile.json`). */
export async function recordInstallProfile(install: string, profile: Profile) {
  return recordProfile(statePaths(install).dir, profile);
}

/**
 * `status` and `history` only read: a recorded profile that is gone is a warning there, not an
 * error, so an operator still sees where a run stands. Backup and restore work on any folder and
 * pass `recognise: false` (only `--profile` or the recorded profile).
 */
export async function readOnlyProfile(
  install: string,
  profile: string | undefined,
  recognise = true,
): Promise<{ chosen?: InstallProfile; warnings: string[] }> {
  try {
    const chosen = await recordedProfile(install, profile, recognise);
    return { ...(chosen ? { chosen } : {}), warnings: chosen?.warnings ?? [] };
  } catch (err) {
    if (err instanceof UpliftError && err.code === 'UPLIFT_PROFILE_MISSING')
      return { warnings: [`${err.message}; ${err.hint}`] };
    throw err;
  }
}

/** The profile part of a run command's JSON: which profile, found how. */
export function profileSummary(chosen: InstallProfile | undefined) {
  return chosen
    ? { name: chosen.profile.manifest.name, dir: chosen.profile.dir, from: chosen.from }
    : null;
}

/**
 * For backup and restore, which work on any folder (even a missing one, after an interrupted
 * restore): `--profile`, the recorded profile or (with `recognise`) the one that recognises it,
 * and its warnings.
 */
export async function installProfileWarnings(
  install: string,
  profile: string | undefined,
  recognise = false,
): Promise<{ chosen?: InstallProfile; warnings: string[] }> {
  const dir = await resolveInstall(install, true).catch(() => undefined);
  return dir ? readOnlyProfile(dir, profile, recognise) : { warnings: [] };
}
