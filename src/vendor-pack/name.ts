import type { VendorPacks } from '../profile/index.ts';

/**
 * A vendor's pack file names, as a profile's `vendorPacks` describes them: a pattern with named
 * groups and the catalog's spelling of each level. No product's names are known here; each comes
 * from the profile of the product (docs/vendor-packs.md).
 */
export interface VendorPackNaming extends VendorPacks {
  /** The product whose packs these are: the profile's `name`. */
  product: string;
  /** The profile folder that declares them. */
  profileDir: string;
}

/** What a vendor pack's file name says. */
export interface VendorPackName {
  /** The product of the profile whose `vendorPacks.name` pattern the name matches. */
  product: string;
  /** The release the pack installs, in the catalog's spelling: `5.5 GA`, `5.3.0 Patch 1`, `5.5-20211216`. */
  to: string;
  /** The upgrade pack number the vendor gives it: `UP1`. */
  update: string;
  /** The `from` part of the name: a product release (`5.4`), or for appliance packs a platform version (`7.2`). */
  from: string;
  /** What `from` counts: the product's release, or the appliance platform's version (`appliancePlatforms`). */
  fromKind: 'product-release' | 'appliance-platform';
  /** The catalog's platform id: `linux-x86-64`, `aix-power-64`, `win-x86-64`, `ap-x86-64`. */
  platform: string;
  /** The vendor's build number, as the name gives it. */
  build: string;
}

const compiled = new Map<string, RegExp>();

function regex(source: string): RegExp {
  let r = compiled.get(source);
  if (r === undefined) {
    r = new RegExp(source, 'i');
    compiled.set(source, r);
  }
  return r;
}

/** Fills `{release}`, `{date}` and `{level}` of a spelling from the name's groups. */
function spell(template: string, groups: Record<string, string | undefined>): string {
  return template.replace(/\{(release|date|level)\}/g, (_, k: string) => groups[k] ?? '');
}

/**
 * Reads a vendor pack's file name (a base name; any directory part is ignored) with the naming a
 * profile declares, or returns undefined when the name is not one of its pack names. Pure: the
 * catalog is not consulted.
 */
export function parseVendorPackName(
  fileName: string,
  naming: VendorPackNaming,
): VendorPackName | undefined {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const g = regex(naming.name).exec(base)?.groups;
  if (g?.release === undefined || g.update === undefined || g.from === undefined) return undefined;
  if (g.platform === undefined || g.build === undefined) return undefined;
  let to: string;
  if (g.date !== undefined) to = spell(naming.release.dated, g);
  else if (g.keyword !== undefined) {
    const template = naming.release.levels[g.keyword.toLowerCase().replace(/\s+/g, ' ')];
    if (template === undefined || g.level === undefined) return undefined;
    to = spell(template, g);
  } else to = spell(naming.release.base, g);
  const platform = g.platform.toLowerCase();
  const appliance =
    naming.appliancePlatforms !== undefined && regex(naming.appliancePlatforms).test(platform);
  return {
    product: naming.product,
    to,
    update: g.update.toUpperCase(),
    from: g.from,
    fromKind: appliance ? 'appliance-platform' : 'product-release',
    platform,
    build: g.build,
  };
}
