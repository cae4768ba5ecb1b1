import { loadCatalog } from '../../catalog/index.ts';
import { ExitCode } from '../../errors/index.ts';
import {
  checkCatalogAgainstProfile,
  findProfileDir,
  readProfileManifest,
} from '../../profile/index.ts';
import type { CommandResult } from '../types.ts';

/**
 * `uplift catalog validate FILE [--profile P]`: checks a catalog, and with a profile what the
 * catalog asks of it (src/profile/catalog-check.ts); errors name file:line:col, the field and a fix.
 */
export async function handler(file: string, profile?: string): Promise<CommandResult> {
  const c = await loadCatalog(file);
  if (profile !== undefined) {
    const dir = await findProfileDir(profile);
    await checkCatalogAgainstProfile(await readProfileManifest(dir), dir, c);
  }
  const notes = c.catalog.releases.reduce(
    (n, r) =>
      n +
      (r.notes?.features?.length ?? 0) +
      (r.notes?.fixed?.length ?? 0) +
      (r.notes?.limitations?.length ?? 0),
    0,
  );
  const data = {
    file,
    valid: true,
    ...(profile !== undefined ? { profile } : {}),
    product: c.catalog.product,
    versionScheme: c.scheme.id,
    digest: c.digest,
    releases: c.versions.length,
    requiredStops: c.stops.map((s) => s.version),
    edges: [...c.edgesFrom.values()].reduce((n, l) => n + l.length, 0) + c.edgesByPattern.length,
    incompatibilities: c.catalog.incompatibilities.length,
    externalPrerequisites: c.catalog.externalPrerequisites.length,
    tasks: c.catalog.tasks.length,
    notes,
  };
  const text = `ok ${file}: ${data.product}, ${data.releases} releases (${c.versions[0]} … ${c.versions.at(-1)}), ${data.requiredStops.length} required stops, ${data.edges} edges, ${data.incompatibilities} incompatibilities, ${data.tasks} tasks, ${notes} notes\n`;
  return { data, text, exitCode: ExitCode.ok };
}
