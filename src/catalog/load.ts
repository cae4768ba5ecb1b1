import { createHash } from 'node:crypto';
import { UpliftError } from '../errors/index.ts';
import { getScheme, type VersionScheme } from '../versioning/index.ts';
import { describeIssues, loadYamlFast, locate, parseYaml } from '../yaml/index.ts';
import { failCatalog, type LoadedCatalog, resolveCatalog } from './resolve.ts';
import { Catalog } from './schema.ts';

/**
 * Full validation of catalog text: YAML, the zod schema, then the cross-field rules. `cache.ts`
 * skips all three for bytes this validator already passed.
 *
 * Positions cost more than the check itself (yaml@2's positioned document is about 20 times slower
 * to build than js-yaml's plain values), and only an error needs them. So the text is first checked
 * from loadYamlFast's values, with no positions; on any refusal (or a form the fast reader
 * declines) it is checked again from the positioned document, which gives the error its line and
 * column. Both readers give the same values (src/yaml/fast-load.test.ts), so they accept the same
 * catalogs.
 */

/** Checks catalog text. `digest` defaults to the SHA-256 of the text. */
export function parseCatalog(text: string, file: string, digest?: string): LoadedCatalog {
  const loaded = checkFast(text, file) ?? checkPositioned(text, file);
  return {
    ...loaded,
    digest: digest ?? `sha256:${createHash('sha256').update(text).digest('hex')}`,
  };
}

type Checked = Omit<LoadedCatalog, 'digest'>;

/** The checked catalog, or undefined when the positioned check must run (to accept or refuse). */
function checkFast(text: string, file: string): Checked | undefined {
  const value = loadYamlFast(text);
  if (value === undefined) return undefined;
  const parsed = Catalog.safeParse(value);
  if (!parsed.success) return undefined;
  let scheme: VersionScheme;
  try {
    scheme = getScheme(parsed.data.versionScheme);
    return resolveCatalog(file, parsed.data, scheme, () => ({ file }));
  } catch (e) {
    if (e instanceof UpliftError) return undefined;
    throw e;
  }
}

function checkPositioned(text: string, file: string): Checked {
  const y = parseYaml(text, file, 'UPLIFT_CATALOG_YAML');
  const parsed = Catalog.safeParse(y.value);
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
  return resolveCatalog(file, catalog, scheme, (path) => locate(y, path));
}
