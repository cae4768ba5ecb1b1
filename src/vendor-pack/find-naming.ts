import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LoadedCatalog } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { findProfileDir, findProfiles, readProfileManifest } from '../profile/index.ts';
import { parseVendorPackName, type VendorPackName, type VendorPackNaming } from './name.ts';

/** Where the naming of a vendor's packs comes from. */
export interface NamingSource {
  /** The naming itself (a caller that has the profile at hand). */
  naming?: VendorPackNaming;
  /** A profile name or folder: only its `vendorPacks` is asked. */
  profile?: string;
  /** The catalog the pack is checked against: the profile beside it is asked first. */
  catalog?: LoadedCatalog;
  catalogFile?: string;
}

/** The naming a profile folder declares, or undefined when it declares none or is not valid. */
async function namingOf(dir: string): Promise<VendorPackNaming | undefined> {
  try {
    const m = await readProfileManifest(dir);
    return m.vendorPacks && { ...m.vendorPacks, product: m.name, profileDir: dir };
  } catch (err) {
    // A broken profile elsewhere on the search path does not stop recognising this file.
    if (err instanceof UpliftError && err.code === 'UPLIFT_PROFILE_INVALID') return undefined;
    throw err;
  }
}

/**
 * The namings to read a file name with, in the order they are asked: the one given; else the
 * profile given; else the profile that holds the catalog, then every profile on the search path
 * (`UPLIFT_PROFILE_PATH`, then the built-in ones), those of the catalog's product first.
 */
export async function vendorPackNamings(o: NamingSource): Promise<VendorPackNaming[]> {
  if (o.naming) return [o.naming];
  if (o.profile !== undefined) {
    const naming = await namingOf(await findProfileDir(o.profile));
    return naming ? [naming] : [];
  }
  const dirs: string[] = [];
  const catalogFile = o.catalog?.file ?? o.catalogFile;
  if (catalogFile !== undefined && existsSync(join(dirname(catalogFile), 'profile.yaml')))
    dirs.push(await realpath(dirname(catalogFile)));
  for (const p of await findProfiles()) if (p.shadowedBy === undefined) dirs.push(p.dir);
  const namings: VendorPackNaming[] = [];
  for (const dir of new Set(dirs)) {
    const naming = await namingOf(dir);
    if (naming) namings.push(naming);
  }
  const product = o.catalog?.catalog.product;
  return product === undefined
    ? namings
    : [
        ...namings.filter((n) => n.product === product),
        ...namings.filter((n) => n.product !== product),
      ];
}

/** The first naming that reads the file name, and what it says. */
export function readVendorPackName(
  fileName: string,
  namings: VendorPackNaming[],
): { naming: VendorPackNaming; name: VendorPackName } | undefined {
  for (const naming of namings) {
    const name = parseVendorPackName(fileName, naming);
    if (name) return { naming, name };
  }
  return undefined;
}
