import { getScheme } from '../versioning/index.ts';
import { loadCatalogCached } from './cache.ts';
import { type LoadedCatalog, resolveCatalog } from './resolve.ts';
import type { Catalog } from './schema.ts';

/*
 * This module is the catalog folder's light entry: it does not import zod or the YAML parser,
 * which cost more start-up time than the planning itself. Full validation is imported on demand.
 */

/**
 * Reads and checks a catalog file; throws a positioned UpliftError (exit 2) when it is not usable.
 * The check of the same bytes by the same validator is cached (see cache.ts).
 */
export async function loadCatalog(file: string): Promise<LoadedCatalog> {
  return (await loadCatalogCached(file)).catalog;
}

/** Fully checks catalog text. */
export async function parseCatalog(text: string, file: string): Promise<LoadedCatalog> {
  const { parseCatalog: parse } = await import('./load.ts');
  return parse(text, file);
}

/**
 * Rebuilds a loaded catalog from the output of an earlier full validation of the same bytes
 * (`digest`), without re-running the YAML parser or the schema. The cross-field rules run again:
 * they are cheap, and they compile the patterns the planner needs.
 */
export function restoreCatalog(catalog: Catalog, file: string, digest: string): LoadedCatalog {
  const scheme = getScheme(catalog.versionScheme);
  return { ...resolveCatalog(file, catalog, scheme, () => ({ file })), digest };
}
