/**
 * The vendor's pack file names. The upgrade guide spells them
 * `SecureTransport_<to>_UP<n>-from-<from>_<os>-<processor>_BN<build>.zip`; the catalog also lists
 * patches and service packs (`SecureTransport_5.3.0_Patch1_UP1-from-5.3.0_linux-x86-64_BN1084.zip`,
 * `SecureTransport_5.2.1_SP1_UP1-from-5.2.1_...`), dated updates (`SecureTransport_5.5-20211216_UP1-...`)
 * and the appliance pack, whose `from` is an Appliance Platform version
 * (`SecureTransport_5.5_UP1-from-7.2_ap-x86-64_BN114.zip`).
 */

/** What a vendor pack's file name says. */
export interface VendorPackName {
  product: 'securetransport';
  /** The release the pack installs, in the catalog's spelling: `5.5 GA`, `5.3.0 Patch 1`, `5.2.1 SP1`, `5.5-20211216`. */
  to: string;
  /** The upgrade pack number the vendor gives it: `UP1`. */
  update: string;
  /** The `from-` part of the name: a product release (`5.4`), or for appliance packs a platform version (`7.2`). */
  from: string;
  /** What `from` counts: the product's release, or the Appliance Platform's version (`ap-*` packs). */
  fromKind: 'product-release' | 'appliance-platform';
  /** The catalog's platform id: `linux-x86-64`, `aix-power-64`, `win-x86-64`, `ap-x86-64`. */
  platform: string;
  /** The vendor's build number, without `BN`. */
  build: string;
}

const namePattern = new RegExp(
  [
    '^SecureTransport_',
    String.raw`(?<release>\d+(?:\.\d+){1,3})`,
    String.raw`(?:-(?<date>\d{8})|_(?<keyword>SP|Patch|FP)(?<level>[1-9]\d*))?`,
    String.raw`_(?<update>UP\d+)`,
    String.raw`-from-(?<from>\d+(?:\.\d+){1,3})`,
    '_(?<platform>[a-z][a-z0-9]*(?:-[a-z0-9]+)+)',
    String.raw`_BN(?<build>\d+)`,
    String.raw`\.zip$`,
  ].join(''),
  'i',
);

/** The catalog's spelling of each level keyword. */
const keywordSpelling: Record<string, (level: string) => string> = {
  sp: (n) => `SP${n}`,
  patch: (n) => `Patch ${n}`,
  fp: (n) => `FP${n}`,
};

/**
 * Reads a vendor pack's file name (a base name; any directory part is ignored), or returns
 * undefined when the name is not one of the vendor's pack names. Pure: the catalog is not consulted.
 */
export function parseVendorPackName(fileName: string): VendorPackName | undefined {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const g = namePattern.exec(base)?.groups;
  if (g?.release === undefined || g.update === undefined || g.from === undefined) return undefined;
  if (g.platform === undefined || g.build === undefined) return undefined;
  let to: string;
  if (g.date !== undefined) to = `${g.release}-${g.date}`;
  else if (g.keyword !== undefined && g.level !== undefined) {
    const spell = keywordSpelling[g.keyword.toLowerCase()];
    if (spell === undefined) return undefined;
    to = `${g.release} ${spell(g.level)}`;
  } else to = `${g.release} GA`;
  const platform = g.platform.toLowerCase();
  return {
    product: 'securetransport',
    to,
    update: g.update.toUpperCase(),
    from: g.from,
    fromKind: platform.startsWith('ap-') ? 'appliance-platform' : 'product-release',
    platform,
    build: g.build,
  };
}
