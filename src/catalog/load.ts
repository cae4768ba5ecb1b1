import { createHash } from 'node:crypto';
import { UpliftError } from '../errors/index.ts';
import { getScheme, type VersionScheme } from '../versioning/index.ts';
import { describeIssues, locate, parseYaml } from '../yaml/index.ts';
import { failCatalog, type LoadedCatalog, resolveCatalog } from './resolve.ts';
import { Catalog } from './schema.ts';

/**
 * Full validation of catalog text: YAML with positions, the zod schema, then the cross-field
 * rules. `cache.ts` skips the first two for bytes this validator already passed.
 */

/** Checks catalog text. `digest` defaults to the SHA-256 of the text. */
export function parseCatalog(text: string, file: string, digest?: string): LoadedCatalog {
  const y = parseYaml(text, file, 'UPLIFT_CATALOG_YAML');
  const parsed = Catalog.safeParse(y.doc.toJS());
  if (!parsed.success) failCatalog(file, describeIssues(y, parsed.error));
  const catalog = parsed.data;
  let scheme: VersionScheme;
  try {
    scheme = getScheme(catalog.versionScheme);
  } catch (cause) {
    const location = locate(y, ['versionScheme']);
    const hint = cause instanceof UpliftError ? cause.hint : undefined;
    failCatalog(file, [{ message: `versionScheme: ${(cause as Error).message}`, location, hint }]);
  }
  const loaded = resolveCatalog(file, catalog, scheme, (path) => locate(y, path));
  return {
    ...loaded,
    digest: digest ?? `sha256:${createHash('sha256').update(text).digest('hex')}`,
  };
}
