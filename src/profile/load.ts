import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeIssues, type LoadedCatalog, loadCatalog, parseYaml } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { ProfileManifest } from './schema.ts';

/** A profile read from disk: its manifest, its folder and its checked catalog. */
export interface Profile {
  manifest: ProfileManifest;
  dir: string;
  catalog: LoadedCatalog;
  /** Absolute path of the sample facts, when the profile ships some. */
  sampleFacts?: string;
}

/** The built-in profiles ship beside `src/` and `dist/`, at the package root. */
export const builtInProfilesDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../profiles');

/** Names of the built-in profiles. */
export async function listProfiles(): Promise<string[]> {
  const entries = await readdir(builtInProfilesDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(builtInProfilesDir, e.name, 'profile.yaml')))
    .map((e) => e.name)
    .sort();
}

/** Loads a built-in profile by name, or a profile folder by path. */
export async function loadProfile(nameOrDir: string): Promise<Profile> {
  const dir = await findProfileDir(nameOrDir);
  const file = join(dir, 'profile.yaml');
  const y = parseYaml(await readFile(file, 'utf8'), file, 'UPLIFT_PROFILE_INVALID');
  const parsed = ProfileManifest.safeParse(y.doc.toJS());
  if (!parsed.success) {
    const details = describeIssues(y, parsed.error);
    throw new UpliftError('UPLIFT_PROFILE_INVALID', details[0]?.message ?? 'invalid profile', {
      location: details[0]?.location,
      details,
      hint: 'correct the field; a profile.yaml has profile: 1, name, title, catalog and optionally sampleFacts',
    });
  }
  const manifest = parsed.data;
  const catalog = await loadCatalog(join(dir, manifest.catalog));
  const sampleFacts = manifest.sampleFacts === undefined ? undefined : join(dir, manifest.sampleFacts);
  return { manifest, dir, catalog, sampleFacts };
}

async function findProfileDir(nameOrDir: string): Promise<string> {
  if (nameOrDir.includes('/') || nameOrDir.startsWith('.')) {
    if (existsSync(join(nameOrDir, 'profile.yaml'))) return resolve(nameOrDir);
  } else if (existsSync(join(builtInProfilesDir, nameOrDir, 'profile.yaml'))) {
    return join(builtInProfilesDir, nameOrDir);
  }
  const known = await listProfiles();
  throw new UpliftError('UPLIFT_PROFILE_UNKNOWN', `no profile named "${nameOrDir}"`, {
    hint: `use one of: ${known.join(', ')}, or the path of a folder holding a profile.yaml`,
  });
}
