import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { currentTime, sha256, writeAtomically } from '../util/index.ts';
import { findProfileDir, loadProfile, type Profile } from './load.ts';
import { findProfileFor } from './recognise.ts';

/**
 * `<state dir>/profile.json`: the profile an installation was upgraded with, so that `resume`,
 * `rollback`, `status` and `history` (and later plans) use the same one without `--profile`.
 */
export interface ProfileRecord {
  name: string;
  /** The profile folder, real path. */
  dir: string;
  /** `sha256:` over every file of the folder and the catalog (`profileDigest`). */
  digest: string;
  recordedAt: string;
}

/** How the profile of an installation was chosen. */
export type ProfileChoice = 'flag' | 'recorded' | 'recognised';

export interface InstallProfile {
  profile: Profile;
  from: ProfileChoice;
  /** What the operator should know: the recorded profile changed since, or `--profile` differs from it. */
  warnings: string[];
  record?: ProfileRecord;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * `sha256:` over the profile: each file of its folder (sorted by relative path) and its catalog
 * when that lies outside the folder, as path, then the file's own hash.
 */
export async function profileDigest(profile: Pick<Profile, 'dir' | 'catalog'>): Promise<string> {
  try {
    const files = await filesUnder(profile.dir);
    const catalog = resolve(profile.catalog.file);
    if (!catalog.startsWith(profile.dir + sep)) files.push(catalog);
    const lines: string[] = [];
    for (const f of files) {
      const rel = relative(profile.dir, f).split(sep).join('/');
      lines.push(`${rel}\0${sha256(await readFile(f))}`);
    }
    return `sha256:${sha256(lines.join('\n'))}`;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EACCES' && e.code !== 'EPERM' && e.code !== 'ENOENT') throw err;
    throw new UpliftError(
      'UPLIFT_PROFILE_INVALID',
      `cannot read the profile folder ${profile.dir}: ${e.message}`,
      {
        cause: err,
        location: { file: e.path ?? profile.dir },
        hint: 'Make the whole profile folder readable by the user uplift runs as (the installation owner, when uplift changes to it).',
      },
    );
  }
}

/** Writes `<stateDir>/profile.json` atomically (the state folder is made if missing). */
export async function recordProfile(stateDir: string, profile: Profile): Promise<ProfileRecord> {
  const record: ProfileRecord = {
    name: profile.manifest.name,
    dir: profile.dir,
    digest: await profileDigest(profile),
    recordedAt: currentTime().toISOString(),
  };
  await writeAtomically(join(stateDir, 'profile.json'), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** The recorded profile of an installation, or undefined when none was recorded. */
export async function readProfileRecord(stateDir: string): Promise<ProfileRecord | undefined> {
  const file = join(stateDir, 'profile.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let r: Partial<ProfileRecord>;
  try {
    r = JSON.parse(text) as Partial<ProfileRecord>;
  } catch {
    r = {};
  }
  if (typeof r.name !== 'string' || typeof r.dir !== 'string' || typeof r.digest !== 'string')
    throw new UpliftError('UPLIFT_PROFILE_INVALID', `${file} is not a profile record`, {
      location: { file },
      hint: "pass --profile with the installation's profile, by name or folder (the next apply records it again); the profiles uplift finds:\nuplift profiles",
    });
  return { name: r.name, dir: r.dir, digest: r.digest, recordedAt: String(r.recordedAt ?? '') };
}

/**
 * The profile to use on an installation: `--profile` when given; else the one recorded in its state
 * folder (`stateDir`, from `statePaths(install).dir`: this folder knows nothing of apply); else the
 * one that recognises the installation. Warns when the recorded profile's files changed since, or
 * when `--profile` is another folder than the recorded one; a recorded folder that is gone is an
 * error (UPLIFT_PROFILE_MISSING) unless `--profile` replaces it.
 *
 * With `optional`, an installation nothing records or recognises gives `undefined` instead of an
 * error (the run commands read their journal without a profile); with `recognise: false` as well,
 * only `--profile` or the recorded profile count.
 */
export async function resolveProfileForInstall(o: {
  install: string;
  stateDir: string;
  profile?: string;
  optional?: false;
  recognise?: boolean;
}): Promise<InstallProfile>;
export async function resolveProfileForInstall(o: {
  install: string;
  stateDir: string;
  profile?: string;
  optional: true;
  recognise?: boolean;
}): Promise<InstallProfile | undefined>;
export async function resolveProfileForInstall(o: {
  install: string;
  stateDir: string;
  profile?: string;
  optional?: boolean;
  /** False: only `--profile` or the recorded profile, never recognition (it loads every profile). */
  recognise?: boolean;
}): Promise<InstallProfile | undefined> {
  const record = await readProfileRecord(o.stateDir);
  if (o.profile !== undefined) {
    const profile = await loadProfile(o.profile);
    const warnings =
      record && record.dir !== profile.dir
        ? [
            `${o.install} was upgraded with the profile in ${record.dir}; this run uses ${profile.dir} (--profile). The next uplift apply records it.`,
          ]
        : [];
    return { profile, from: 'flag', warnings, ...(record ? { record } : {}) };
  }
  if (record) {
    if (!existsSync(join(record.dir, 'profile.yaml')))
      throw new UpliftError(
        'UPLIFT_PROFILE_MISSING',
        `the profile ${record.name} recorded for ${o.install} is gone: ${record.dir} holds no profile.yaml`,
        {
          location: { file: join(o.stateDir, 'profile.json') },
          hint: "pass --profile with this installation's profile, by name or folder; the profiles uplift finds:\nuplift profiles",
          unchanged: true,
        },
      );
    const profile = await loadProfile(await findProfileDir(record.dir));
    const digest = await profileDigest(profile);
    const warnings =
      digest === record.digest
        ? []
        : [
            `the profile ${record.name} in ${record.dir} changed since it was recorded for ${o.install} (${record.recordedAt}); review the change (it now drives this installation), or pass --profile with the profile it was upgraded with. The next uplift apply records it again.`,
          ];
    return { profile, from: 'recorded', warnings, record };
  }
  if (o.recognise === false && o.optional) return undefined;
  try {
    return { profile: await findProfileFor(o.install), from: 'recognised', warnings: [] };
  } catch (err) {
    if (o.optional && err instanceof UpliftError) return undefined;
    throw err;
  }
}
