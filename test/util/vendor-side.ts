/**
 * The vendor's side of an upgrade through the CLI, shared by the tests and the bench: the
 * arguments of `uplift release-tree make` and of a signed delta `uplift pack build`, the pack
 * listed in a profile's catalog, and the vendor manifest an installation made from a release tree
 * has. Loads without vitest, so the bench can import it.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';

/** `uplift release-tree make <source> --product --version --out`, then `more` (`--json`, …). */
export function releaseTreeMakeArgs(
  o: { source: string; product: string; version: string; out: string },
  ...more: string[]
): string[] {
  return [
    'release-tree',
    'make',
    o.source,
    '--product',
    o.product,
    '--version',
    o.version,
    '--out',
    o.out,
    ...more,
  ];
}

/** `uplift pack build --delta` from release tree `fromTree` to `toTree`, signed with `key`. */
export function deltaPackArgs(o: {
  fromTree: string;
  toTree: string;
  platform: string;
  key: string;
  out: string;
  /** The profile whose version scheme names the versions (`--profile`). */
  profile?: string;
}): string[] {
  return [
    'pack',
    'build',
    '--from-tree',
    o.fromTree,
    '--to-tree',
    o.toTree,
    '--platform',
    o.platform,
    '--delta',
    '--key',
    o.key,
    '--out',
    o.out,
    ...(o.profile ? ['--profile', o.profile] : []),
    // The catalog lists the pack with the whole file's SHA-256, which the build prints on request.
    '--sha256',
  ];
}

/** A catalog's entry for a pack. */
export interface CatalogPack {
  platform: string;
  file: string;
  size: number;
  sha256?: string;
  from: string;
}

/** Lists `pack` in release `version` of `catalogFile`, as a vendor publishing it does. */
export function listPackInCatalog(catalogFile: string, version: string, pack: CatalogPack): void {
  const catalog = parseDocument(readFileSync(catalogFile, 'utf8'));
  const releases = catalog.get('releases') as { items: { get(k: string): unknown }[] };
  const index = releases.items.findIndex((r) => String(r.get('version')) === version);
  if (index === -1) throw new Error(`${catalogFile} has no release ${version}`);
  catalog.setIn(['releases', index, 'packs'], catalog.createNode([pack]));
  writeFileSync(catalogFile, catalog.toString());
}

/**
 * Gives `install` the manifest of `releaseTree` as its vendor manifest
 * (.uplift-vendor/manifest.json, where a profile that names none has apply read it), as installing
 * from the release tree leaves it.
 */
export function copyVendorManifest(releaseTree: string, install: string): void {
  mkdirSync(join(install, '.uplift-vendor'));
  cpSync(join(releaseTree, 'manifest.json'), join(install, '.uplift-vendor/manifest.json'));
}
