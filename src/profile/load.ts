import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Catalog, type LoadedCatalog, loadCatalog, restoreCatalog } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { readCached, sha256, writeCached } from '../util/index.ts';
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

/** The built-in profiles ship beside `src/` and `dist/`, at the package root. */
export const builtInProfilesDir = resolve(here, '../../profiles');

/** Names of the built-in profiles. */
export async function listProfiles(): Promise<string[]> {
  const entries = await readdir(builtInProfilesDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(builtInProfilesDir, e.name, 'profile.yaml')))
    .map((e) => e.name)
    .sort();
}

interface CachedProfile {
  key: string;
  manifest: ProfileManifest;
  catalogDigest: string;
  catalog: Catalog;
}

/**
 * Loads a built-in profile by name, or a profile folder by path.
 *
 * The validated manifest and catalog are cached under a key of the manifest's bytes and the
 * validator's own code; the catalog's bytes must still hash to the cached digest. So an edited
 * catalog or a new uplift build always gets the full validation, and a plan never runs on a
 * catalog that was not validated byte for byte.
 */
export async function loadProfile(nameOrDir: string): Promise<Profile> {
  const dir = await findProfileDir(nameOrDir);
  const file = join(dir, 'profile.yaml');
  const bytes = await readFile(file);
  const validator = await Promise.all(
    ['./schema', '../detect/schema', '../catalog/schema', '../rules/schema'].map((m) =>
      readFile(join(here, m + extname())),
    ),
  );
  const key = sha256(`${dir}\0${sha256(bytes)}\0${validator.map((v) => sha256(v)).join('\0')}`);
  const name = `profile-${key.slice(0, 32)}.json`;

  const cached = await readCached<CachedProfile>(name);
  if (cached?.key === key) {
    const catalogFile = join(dir, cached.manifest.catalog);
    const catalogBytes = await readFile(catalogFile).catch(() => undefined);
    const digest = catalogBytes && `sha256:${sha256(catalogBytes)}`;
    if (digest === cached.catalogDigest) {
      return withCatalog(cached.manifest, dir, restoreCatalog(cached.catalog, catalogFile, digest));
    }
  }

  const manifest = await validateManifest(bytes.toString('utf8'), file);
  const catalog = await loadCatalog(join(dir, manifest.catalog));
  await writeCached(name, {
    key,
    manifest,
    catalogDigest: catalog.digest,
    catalog: catalog.catalog,
  } satisfies CachedProfile);
  return withCatalog(manifest, dir, catalog);
}

function withCatalog(manifest: ProfileManifest, dir: string, catalog: LoadedCatalog): Profile {
  const sampleFacts =
    manifest.sampleFacts === undefined ? undefined : join(dir, manifest.sampleFacts);
  return { manifest, dir, catalog, sampleFacts };
}

async function validateManifest(text: string, file: string): Promise<ProfileManifest> {
  const [{ ProfileManifest }, { describeIssues, parseYaml }] = await Promise.all([
    import('./schema.ts'),
    import('../yaml/index.ts'),
  ]);
  const y = parseYaml(text, file, 'UPLIFT_PROFILE_INVALID');
  const parsed = ProfileManifest.safeParse(y.doc.toJS());
  if (!parsed.success) {
    const details = describeIssues(y, parsed.error);
    throw new UpliftError('UPLIFT_PROFILE_INVALID', details[0]?.message ?? 'invalid profile', {
      location: details[0]?.location,
      details,
      hint: 'correct the field; a profile.yaml has profile: 1, name, title, catalog and optionally sampleFacts and detection (docs/detection.md)',
    });
  }
  return parsed.data;
}

/** `.ts` when running from source (tests), `.js` from the build. */
function extname(): string {
  return import.meta.url.endsWith('.ts') ? '.ts' : '.js';
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
