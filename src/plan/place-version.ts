import type { LoadedCatalog } from '../catalog/index.ts';

/**
 * The catalog with one version it does not list placed among its versions by the scheme's order:
 * an installed patch the vendor never announced is planned from its place (docs/catalog.md,
 * "How the planner finds the path"). Pure; the loaded catalog is left as it is, and the copy
 * shares everything but the version order, so patterns, stops and edges keep their meaning.
 */
export function placeVersion(
  c: LoadedCatalog,
  version: string,
): { catalog: LoadedCatalog; after: string | null; before: string | null } {
  const { scheme, versions } = c;
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (scheme.compare(versions[mid] as string, version) < 0) lo = mid + 1;
    else hi = mid;
  }
  const placed = [...versions.slice(0, lo), version, ...versions.slice(lo)];
  return {
    catalog: { ...c, versions: placed, rank: new Map(placed.map((v, i) => [v, i])) },
    after: versions[lo - 1] ?? null,
    before: versions[lo] ?? null,
  };
}
