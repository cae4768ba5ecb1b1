import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UpliftError, unreadableFileError } from '../errors/index.ts';
import { cacheDir, readRegularFile } from '../util/index.ts';
import { getScheme, type VersionScheme } from '../versioning/index.ts';
import type { LoadedCatalog } from './resolve.ts';
import { decodeSnapshot, encodeSnapshot, NotStorable } from './snapshot.ts';
import { compilePattern, type VersionPattern } from './version-pattern.ts';

/*
 * A checked catalog (the schema's output and what the cross-field rules derived from it: sorted
 * versions, resolved stops, edges by version) is kept in the user's cache folder, so that a later
 * load of the same bytes skips the YAML reader, the schema and the rules: for a large catalog they
 * are all of the load. Its version patterns are compiled again on first use (snapshot.ts).
 *
 * An entry is used only when all of these hold, and is otherwise ignored and rewritten:
 *   - it was written for the same bytes (the catalog's SHA-256),
 *   - by the same validator (a digest of the code whose output the entry stores, see
 *     `catalogValidatorSources`, so a new uplift never trusts an old check),
 *   - and its body still hashes to what was written (a cut-short or edited entry is not trusted).
 * The entry's name comes from the catalog's path, not its bytes, so an edited catalog replaces its
 * entry instead of leaving a stale copy of a large file behind.
 *
 * Like every cache here it is only an optimisation: `UPLIFT_CACHE_DIR=off`, a missing or unwritable
 * folder, or any unreadable entry falls back to the full check.
 */

/** `hit`: served from the cache; `miss`: fully checked (and stored when possible); `off`: no cache. */
export type CacheOutcome = 'hit' | 'miss' | 'off';

const entryFormat = 2;

interface EntryHeader {
  format: number;
  validator: string;
  digest: string;
  bodyBytes: number;
  bodySha256: string;
}

/** What an entry's body holds: a checked catalog without what the loading process supplies. */
type Stored = Omit<LoadedCatalog, 'file' | 'digest' | 'scheme'>;

/**
 * The code whose output a cache entry stores, so whose digest keys it: the folders under src/ of
 * the catalog's schema and rules, the rules' schema and types, the version schemes (they sort the
 * versions and resolve references) and both YAML readers; and the packages they run on.
 * tools/bundle.ts hashes the same for the bundle.
 */
export const catalogValidatorSources = {
  folders: ['catalog', 'rules', 'versioning', 'yaml'],
  packages: ['js-yaml', 'semver', 'yaml', 'zod'],
} as const;

/**
 * Set by tools/bundle.ts to the digest of the validator's sources: the bundle has no source files
 * beside it to hash. Unset (so `typeof` is 'undefined') in src/ and the tsc build.
 */
declare const UPLIFT_VALIDATOR_DIGEST: string | undefined;

const here = dirname(fileURLToPath(import.meta.url));
let validator: Promise<string> | undefined;

function validatorDigest(): Promise<string> {
  if (typeof UPLIFT_VALIDATOR_DIGEST === 'string') return Promise.resolve(UPLIFT_VALIDATOR_DIGEST);
  validator ??= sourcesDigest();
  return validator;
}

/** Every module of the validator's folders (src/*.ts or the build's *.js), by path and content. */
async function sourcesDigest(): Promise<string> {
  const src = join(here, '..');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const files = (
    await Promise.all(
      catalogValidatorSources.folders.map(async (folder) =>
        (
          await readdir(join(src, folder), { recursive: true, encoding: 'utf8' })
        )
          .filter((f) => f.endsWith(ext) && !f.endsWith(`.test${ext}`) && !f.endsWith('.d.ts'))
          .map((f) => join(src, folder, f)),
      ),
    )
  )
    .flat()
    .sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${relative(src, f)}\0${sha256(await readFile(f))}\0`);
  const require = createRequire(import.meta.url);
  for (const p of catalogValidatorSources.packages) {
    const { version } = JSON.parse(await readFile(require.resolve(`${p}/package.json`), 'utf8'));
    hash.update(`${p}@${version}\0`);
  }
  return hash.digest('hex');
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads and checks a catalog file, through the cache; throws a positioned UpliftError (exit 2)
 * when it is not usable. A refused catalog is never stored, so its errors come from the full check
 * every time.
 */
export async function loadCatalogCached(
  file: string,
): Promise<{ catalog: LoadedCatalog; cache: CacheOutcome }> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(file);
  } catch (cause) {
    const hint = 'check the path; catalogs are YAML files such as profiles/<name>/catalog.yaml';
    throw (
      unreadableFileError(cause, file, hint) ??
      new UpliftError('UPLIFT_FILE_UNREADABLE', `cannot read catalog ${file}`, {
        cause,
        location: { file },
        hint,
      })
    );
  }
  const digest = `sha256:${sha256(bytes)}`;
  const dir = cacheDir();
  if (dir === undefined) return { catalog: await fullCheck(bytes, file, digest), cache: 'off' };

  const validator = await validatorDigest();
  // One entry per catalog file and build: an edited catalog replaces its entry, and two builds
  // used side by side (the bundle and tsc's tree) do not push each other's out on every start.
  const entry = join(dir, `catalog-${sha256(`${resolve(file)}\0${validator}`).slice(0, 32)}.json`);
  const cached = await readEntry(entry, validator, digest, file);
  if (cached !== undefined) return { catalog: cached, cache: 'hit' };
  const catalog = await fullCheck(bytes, file, digest);
  await writeEntry(entry, validator, digest, catalog);
  return { catalog, cache: 'miss' };
}

async function fullCheck(bytes: Buffer, file: string, digest: string): Promise<LoadedCatalog> {
  const [{ parseCatalog }, { decodeCatalogText }] = await Promise.all([
    import('./load.ts'),
    import('./text.ts'),
  ]);
  return parseCatalog(decodeCatalogText(bytes, file), file, digest);
}

/** The cached catalog, or undefined when the entry is missing, foreign, stale or damaged. */
async function readEntry(
  path: string,
  validator: string,
  digest: string,
  file: string,
): Promise<LoadedCatalog | undefined> {
  try {
    const bytes = await readFile(path);
    const newline = bytes.indexOf(0x0a);
    if (newline < 0) return undefined;
    const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Partial<EntryHeader>;
    const body = bytes.subarray(newline + 1);
    if (
      header.format !== entryFormat ||
      header.validator !== validator ||
      header.digest !== digest ||
      header.bodyBytes !== body.length ||
      header.bodySha256 !== sha256(body)
    )
      return undefined;
    let scheme: VersionScheme | undefined;
    const stored = decodeSnapshot(body.toString('utf8'), (source, exact) =>
      lazyPattern(source, exact, () => scheme as VersionScheme),
    ) as Stored;
    scheme = getScheme(stored.catalog.versionScheme);
    return { ...stored, file, digest, scheme };
  } catch {
    return undefined;
  }
}

/**
 * A pattern the validator compiled when it checked these bytes, compiled again only when asked:
 * the planner asks few of a large catalog's patterns anything (edges are found by version).
 */
function lazyPattern(
  source: string,
  exact: string | undefined,
  scheme: () => VersionScheme,
): VersionPattern {
  let compiled: VersionPattern | undefined;
  return {
    source,
    exact,
    matches(version) {
      if (compiled === undefined) {
        const p = compilePattern(source, scheme());
        if (typeof p === 'string') throw new Error(`a cached pattern does not compile: ${p}`);
        compiled = p;
      }
      return compiled.matches(version);
    },
  };
}

async function writeEntry(
  path: string,
  validator: string,
  digest: string,
  loaded: LoadedCatalog,
): Promise<void> {
  const { file: _file, digest: _digest, scheme: _scheme, ...stored } = loaded;
  let body: Buffer;
  try {
    body = Buffer.from(encodeSnapshot(stored satisfies Stored), 'utf8');
  } catch (e) {
    // A checked catalog holding a value the snapshot cannot carry is checked again next time.
    if (e instanceof NotStorable) return;
    throw e;
  }
  const header: EntryHeader = {
    format: entryFormat,
    validator,
    digest,
    bodyBytes: body.length,
    bodySha256: sha256(body),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]), {
      mode: 0o600,
    });
    // Readers see the old entry or the new one, never a half-written file.
    await rename(tmp, path);
  } catch {
    // A cache that cannot be written only costs speed next time.
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
