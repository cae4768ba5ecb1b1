import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UpliftError } from '../errors/index.ts';
import { cacheDir } from '../util/index.ts';
import { getScheme } from '../versioning/index.ts';
import { type LoadedCatalog, resolveCatalog } from './resolve.ts';
import type { Catalog } from './schema.ts';

/*
 * The validated form of a catalog (the schema's output, defaults filled in) is kept in the user's
 * cache folder, so that a later load skips the YAML parser and the schema: for a large catalog
 * they are almost all of the load. The cross-field rules still run on every load; they compile
 * the patterns the planner needs.
 *
 * An entry is used only when all of these hold, and is otherwise ignored and rewritten:
 *   - it was written for the same bytes (the catalog's SHA-256),
 *   - by the same validator (a digest of the schema's code, so a new uplift never trusts an old check),
 *   - and its body still hashes to what was written (a cut-short or edited entry is not trusted).
 * The entry's name comes from the catalog's path, not its bytes, so an edited catalog replaces its
 * entry instead of leaving a stale copy of a large file behind.
 *
 * Like every cache here it is only an optimisation: `UPLIFT_CACHE_DIR=off`, a missing or unwritable
 * folder, or any unreadable entry falls back to the full check.
 */

/** `hit`: served from the cache; `miss`: fully checked (and stored when possible); `off`: no cache. */
export type CacheOutcome = 'hit' | 'miss' | 'off';

const entryFormat = 1;

interface EntryHeader {
  format: number;
  validator: string;
  digest: string;
  bodyBytes: number;
  bodySha256: string;
}

/**
 * Set by tools/bundle.ts to the digest of the validator's sources: the bundle has no schema files
 * beside it to hash. Unset (so `typeof` is 'undefined') in src/ and the tsc build.
 */
declare const UPLIFT_VALIDATOR_DIGEST: string | undefined;

const here = dirname(fileURLToPath(import.meta.url));
/** The code whose output the cache stores: the catalog schema and the rule schema it embeds. */
const validatorSources = ['./schema', '../rules/schema', '../rules/types'];
let validator: Promise<string> | undefined;

function validatorDigest(): Promise<string> {
  if (typeof UPLIFT_VALIDATOR_DIGEST === 'string') return Promise.resolve(UPLIFT_VALIDATOR_DIGEST);
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  validator ??= Promise.all(validatorSources.map((m) => readFile(join(here, m + ext)))).then(
    (sources) => sha256(Buffer.concat(sources.map((s) => Buffer.from(sha256(s))))),
  );
  return validator;
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
    bytes = await readFile(file);
  } catch (cause) {
    throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `cannot read catalog ${file}`, {
      cause,
      location: { file },
      hint: 'check the path; catalogs are YAML files such as profiles/<name>/catalog.yaml',
    });
  }
  const digest = `sha256:${sha256(bytes)}`;
  const dir = cacheDir();
  if (dir === undefined) return { catalog: await fullCheck(bytes, file, digest), cache: 'off' };

  const entry = join(dir, `catalog-${sha256(resolve(file)).slice(0, 32)}.json`);
  const validator = await validatorDigest();
  const cached = await readEntry(entry, validator, digest);
  if (cached !== undefined) {
    const restored = restore(cached, file, digest);
    if (restored !== undefined) return { catalog: restored, cache: 'hit' };
  }
  const catalog = await fullCheck(bytes, file, digest);
  await writeEntry(entry, validator, digest, catalog.catalog);
  return { catalog, cache: 'miss' };
}

async function fullCheck(bytes: Buffer, file: string, digest: string): Promise<LoadedCatalog> {
  const { parseCatalog } = await import('./load.ts');
  return parseCatalog(bytes.toString('utf8'), file, digest);
}

/** The cached catalog, or undefined when the entry is missing, foreign, stale or damaged. */
async function readEntry(
  path: string,
  validator: string,
  digest: string,
): Promise<Catalog | undefined> {
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
    return JSON.parse(body.toString('utf8')) as Catalog;
  } catch {
    return undefined;
  }
}

/** The cross-field rules over a cached catalog; undefined when they do not pass (not trusted). */
function restore(catalog: Catalog, file: string, digest: string): LoadedCatalog | undefined {
  try {
    const scheme = getScheme(catalog.versionScheme);
    return { ...resolveCatalog(file, catalog, scheme, () => ({ file })), digest };
  } catch {
    return undefined;
  }
}

async function writeEntry(
  path: string,
  validator: string,
  digest: string,
  catalog: Catalog,
): Promise<void> {
  const body = Buffer.from(JSON.stringify(catalog), 'utf8');
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
