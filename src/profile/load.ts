import { existsSync } from 'node:fs';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LoadedCatalog, loadCatalog } from '../catalog/index.ts';
import { UpliftError, type UpliftErrorDetail, unreadableFileError } from '../errors/index.ts';
import { nameProfileAs } from '../facts/index.ts';
import { packageRoot, readCached, readRegularFile, sha256, writeCached } from '../util/index.ts';
import type { ProfileManifest } from './schema.ts';

/** A profile read from disk: its manifest, its folder and its checked catalog. */
export interface Profile {
  manifest: ProfileManifest;
  dir: string;
  catalog: LoadedCatalog;
  /** Absolute path of the sample facts, when the profile ships some. */
  sampleFacts?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The built-in profiles ship at the package root, beside `src/` and `dist/`. */
export const builtInProfilesDir = join(packageRoot(), 'profiles');

/**
 * Set by tools/bundle.ts to the digest of the validator's sources: the bundle has no
 * schema files beside it to hash. Unset (so `typeof` is 'undefined') in src/ and the tsc build.
 */
declare const UPLIFT_VALIDATOR_DIGEST: string | undefined;

/** The modules whose code validates a profile, relative to this one. */
export const validatorModules = [
  './schema',
  './facts',
  '../facts/schema',
  '../facts/declared',
  '../detect/schema',
  '../catalog/schema',
  '../rules/schema',
  '../traffic/schema',
] as const;

/** A digest of the validator's own code: a cached profile is valid only for the same validator. */
async function validatorDigest(): Promise<string> {
  if (typeof UPLIFT_VALIDATOR_DIGEST === 'string') return UPLIFT_VALIDATOR_DIGEST;
  const sources = await Promise.all(
    validatorModules.map((m) => readFile(join(here, m + extname()))),
  );
  return sources.map((v) => sha256(v)).join('\0');
}

/** Where a profile was found: an entry of `UPLIFT_PROFILE_PATH`, or the built-in profiles. */
export type ProfileSource = 'env' | 'built-in';

/** A profile folder found on the search path (not yet loaded). */
export interface FoundProfile {
  /** The name `--profile NAME` finds it by: its folder's name. */
  name: string;
  /** Its folder, real path (symlinks resolved). */
  dir: string;
  source: ProfileSource;
  /** The search path entry it was found through. */
  entry: string;
  /** The folder of the profile of the same name found earlier on the path, which wins. */
  shadowedBy?: string;
}

/**
 * The profile search path: each entry of `UPLIFT_PROFILE_PATH` (colon-separated; a profile folder
 * or a folder of profile folders), then the built-in profiles. Earlier entries win.
 */
export function profileSearchPath(
  env: NodeJS.ProcessEnv = process.env,
): { entry: string; source: ProfileSource }[] {
  const fromEnv = (env.UPLIFT_PROFILE_PATH ?? '')
    .split(':')
    .filter((e) => e !== '')
    .map((e) => ({ entry: resolve(e), source: 'env' as const }));
  return [...fromEnv, { entry: builtInProfilesDir, source: 'built-in' }];
}

function isProfileDir(dir: string): boolean {
  return existsSync(join(dir, 'profile.yaml'));
}

/** Every profile on the search path, in search order; a later one of the same name is shadowed. */
export async function findProfiles(env: NodeJS.ProcessEnv = process.env): Promise<FoundProfile[]> {
  const found: FoundProfile[] = [];
  const first = new Map<string, string>();
  const add = async (name: string, dir: string, e: { entry: string; source: ProfileSource }) => {
    const real = await realpath(dir);
    const winner = first.get(name);
    if (winner === real) return;
    if (winner === undefined) first.set(name, real);
    found.push({ name, dir: real, ...e, ...(winner ? { shadowedBy: winner } : {}) });
  };
  for (const e of profileSearchPath(env)) {
    if (isProfileDir(e.entry)) {
      await add(basename(e.entry), e.entry, e);
      continue;
    }
    const entries = await readdir(e.entry, { withFileTypes: true }).catch(() => []);
    const names = entries
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && isProfileDir(join(e.entry, d.name)))
      .map((d) => d.name)
      .sort();
    for (const name of names) await add(name, join(e.entry, name), e);
  }
  return found;
}

/** Names of the profiles on the search path (`UPLIFT_PROFILE_PATH`, then the built-in ones). */
export async function listProfiles(): Promise<string[]> {
  return (await findProfiles())
    .filter((p) => p.shadowedBy === undefined)
    .map((p) => p.name)
    .sort();
}

interface CachedProfile {
  key: string;
  manifest: ProfileManifest;
}

/**
 * Loads a profile by name (`UPLIFT_PROFILE_PATH`, then the built-in ones) or a profile folder by path.
 *
 * The validated manifest is cached under a key of the manifest's bytes and the validator's own
 * code, so an edited manifest or a new uplift build always gets the full validation. The catalog
 * has a cache of its own, keyed by its bytes (catalog/cache.ts): a plan never runs on a catalog
 * that was not validated byte for byte.
 */
export async function loadProfile(nameOrDir: string): Promise<Profile> {
  const dir = await findProfileDir(nameOrDir);
  const file = join(dir, 'profile.yaml');
  const bytes = await readManifestBytes(file);
  const key = sha256(`${dir}\0${sha256(bytes)}\0${await validatorDigest()}`);
  const name = `profile-manifest-${key.slice(0, 32)}.json`;

  const cached = await readCached<CachedProfile>(name);
  const manifest =
    cached?.key === key && cached.manifest !== undefined
      ? cached.manifest
      : await validateManifest(bytes.toString('utf8'), file);
  const catalog = await loadCatalog(join(dir, manifest.catalog));
  // The catalog is checked by itself (and cached so); what it asks of this profile is checked here.
  const { checkCatalogAgainstProfile } = await import('./catalog-check.ts');
  await checkCatalogAgainstProfile(manifest, dir, catalog);
  if (cached?.key !== key) await writeCached(name, { key, manifest } satisfies CachedProfile);
  nameProfileAs(manifest, nameOrDir);
  return withCatalog(manifest, dir, catalog);
}

function withCatalog(manifest: ProfileManifest, dir: string, catalog: LoadedCatalog): Profile {
  const sampleFacts =
    manifest.sampleFacts === undefined ? undefined : join(dir, manifest.sampleFacts);
  return { manifest, dir, catalog, sampleFacts };
}

/**
 * The validated manifest of a profile folder, without loading its catalog: for questions every
 * profile on the search path is asked (whose vendor pack names a file is).
 */
export async function readProfileManifest(dir: string): Promise<ProfileManifest> {
  const file = join(dir, 'profile.yaml');
  return validateManifest((await readManifestBytes(file)).toString('utf8'), file);
}

/** The bytes of a profile.yaml; one that is not a regular file (a FIFO) is refused, not waited on. */
async function readManifestBytes(file: string): Promise<Buffer> {
  try {
    return await readRegularFile(file);
  } catch (err) {
    throw (
      unreadableFileError(
        err,
        file,
        'Make profile.yaml a regular file (uplift profile init writes one).',
      ) ?? err
    );
  }
}

async function validateManifest(text: string, file: string): Promise<ProfileManifest> {
  const [{ ProfileManifest }, { describeIssues, parseYaml }, { checkFactDeclarations }] =
    await Promise.all([import('./schema.ts'), import('../yaml/index.ts'), import('./facts.ts')]);
  const y = parseYaml(text, file, 'UPLIFT_PROFILE_INVALID');
  const parsed = ProfileManifest.safeParse(y.value);
  if (!parsed.success) {
    const details = describeIssues(y, parsed.error);
    throw new UpliftError('UPLIFT_PROFILE_INVALID', details[0]?.message ?? 'invalid profile', {
      location: details[0]?.location,
      details,
      hint: 'correct the field; a profile.yaml has profile: 1, name, title, catalog and optionally sampleFacts, facts and detection (docs/profiles.md)',
    });
  }
  const undeclared = checkFactDeclarations(parsed.data, y);
  if (undeclared.length > 0) {
    const first = undeclared[0] as UpliftErrorDetail;
    throw new UpliftError('UPLIFT_PROFILE_INVALID', first.message, {
      location: first.location,
      details: undeclared,
      hint: first.hint,
    });
  }
  return parsed.data;
}

/** `.ts` when running from source (tests), `.js` from the build. */
function extname(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
}

/**
 * The folder of a profile, real path. A path (it has a `/` or starts with `.`) is that folder; a
 * name is looked up on the search path (`profileSearchPath`).
 */
export async function findProfileDir(nameOrDir: string): Promise<string> {
  if (nameOrDir.includes('/') || nameOrDir.startsWith('.')) {
    if (isProfileDir(nameOrDir)) return realpath(resolve(nameOrDir));
    throw new UpliftError('UPLIFT_PROFILE_UNKNOWN', `${nameOrDir} holds no profile.yaml`, {
      location: { file: nameOrDir },
      hint: 'give a profile folder (one with a profile.yaml; uplift profile init writes one), or a profile name from uplift profiles',
    });
  }
  for (const e of profileSearchPath()) {
    if (isProfileDir(e.entry)) {
      if (basename(e.entry) === nameOrDir) return realpath(e.entry);
    } else if (isProfileDir(join(e.entry, nameOrDir))) return realpath(join(e.entry, nameOrDir));
  }
  const known = await listProfiles();
  throw new UpliftError('UPLIFT_PROFILE_UNKNOWN', `no profile named "${nameOrDir}"`, {
    hint: `use one of: ${known.join(', ')}, the path of a folder holding a profile.yaml, or add its folder to UPLIFT_PROFILE_PATH`,
  });
}
