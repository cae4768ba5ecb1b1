import { createHash, timingSafeEqual } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { type LoadedCatalog, loadCatalog, type Pack } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { loadProfile } from '../profile/index.ts';
import { readVendorPackName, vendorPackNamings } from './find-naming.ts';
import type { VendorPackName, VendorPackNaming } from './name.ts';
import {
  defaultZipLimits,
  readVendorZipShape,
  type VendorPackStep,
  type ZipLimits,
} from './zip-shape.ts';

export interface VerifyVendorPackOptions {
  /**
   * Profile whose `vendorPacks` names the pack and whose catalog lists it (default: the profile
   * beside the catalog, else the first profile on the search path whose `vendorPacks.name` matches).
   */
  profile?: string;
  /** The naming to read the file name with, when the caller has the profile at hand. */
  naming?: VendorPackNaming;
  /** A catalog file to use instead of the profile's. */
  catalogFile?: string;
  /** An already loaded catalog (callers that planned with it); wins over `catalogFile` and `profile`. */
  catalog?: LoadedCatalog;
  /** The node's platform id; the pack must be the one for it. */
  platform?: string;
  /** The installed version; the pack's `from` pattern must match it and the pack must lead upwards. */
  installed?: string;
  limits?: Partial<ZipLimits>;
  /** Called as the file is hashed: bytes read so far and the file's size. */
  onProgress?: (bytes: number, total: number) => void;
}

export interface ChecksumResult {
  /** What the catalog says; absent when it gives none. */
  expected?: string;
  actual: string;
  /** True when the catalog gave this checksum and it matched. */
  checked: boolean;
}

export interface VendorPackReport {
  file: string;
  fileName: string;
  /** What the file name says. */
  name: VendorPackName;
  catalog: { file: string; digest: string; product: string };
  /** The catalog's entry for this file, and the release that lists it (catalog spelling). */
  release: string;
  pack: Pack;
  platform: string;
  build: string;
  hop: { from: string; to: string; installed?: string };
  size: {
    expected: number;
    actual: number;
    /** `exact`, or `published-precision` when the catalog holds the vendor's rounded figure. */
    check: 'exact' | 'published-precision';
    /** Bytes the actual size may differ by. */
    tolerance: number;
  };
  checksums: { md5: ChecksumResult; sha256: ChecksumResult };
  /** True when SHA-256 was compared; MD5 alone only guards against damage, not against forgery. */
  sha256Checked: boolean;
  entries: number;
  uncompressedBytes: number;
  steps: VendorPackStep[];
  warnings: string[];
  seconds: number;
}

const zipMagic = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * True when the file starts like a zip and its name is a vendor pack name of a profile (the one
 * given, else any on the search path: see {@link vendorPackNamings}).
 */
export async function isVendorPackFile(
  file: string,
  o: Pick<VerifyVendorPackOptions, 'profile' | 'naming' | 'catalog' | 'catalogFile'> = {},
): Promise<boolean> {
  if (readVendorPackName(basename(file), await vendorPackNamings(o)) === undefined) return false;
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (isCode(err, 'ENOENT') || isCode(err, 'EISDIR') || isCode(err, 'ENOTDIR')) return false;
    throw err;
  }
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0).catch((err: unknown) => {
      if (isCode(err, 'EISDIR')) return { bytesRead: 0 };
      throw err;
    });
    return bytesRead === 4 && head.equals(zipMagic);
  } finally {
    await handle.close();
  }
}

/**
 * Checks a vendor pack before anything uses it: it must be the catalog's pack for this release,
 * platform and hop, have the catalog's size and checksums (hashed in one read), and be a zip of the
 * documented shape with safe entries. Reads only; throws a coded UpliftError on the first failure.
 */
export async function verifyVendorPack(
  file: string,
  o: VerifyVendorPackOptions = {},
): Promise<VendorPackReport> {
  const started = performance.now();
  const fileName = basename(file);
  const namings = await vendorPackNamings(o);
  const read = readVendorPackName(fileName, namings);
  if (!read)
    throw new UpliftError(
      'UPLIFT_VENDOR_PACK_UNRECOGNISED',
      `${file}: "${fileName}" is not a vendor pack name${o.profile === undefined ? '' : ` of the profile ${o.profile}`}`,
      { location: { file }, hint: unrecognisedHint(namings) },
    );
  const { name, naming } = read;

  const loaded = await catalogFor(naming, o);
  const { pack, release } = findPack(fileName, name, loaded);
  const scheme = loaded.scheme;
  const location = { file: loaded.file, path: `releases[${release}].packs` };

  if (o.platform !== undefined && o.platform !== pack.platform) {
    const mine = (loaded.releases.get(release)?.packs ?? []).filter(
      (p) => p.platform === o.platform,
    );
    throw new UpliftError(
      'UPLIFT_VENDOR_PACK_WRONG_PLATFORM',
      `${fileName} is the ${pack.platform} pack; this node is ${o.platform}`,
      {
        location: { file },
        hint:
          mine.length > 0
            ? `download the ${o.platform} pack: ${mine.map((p) => p.file).join(' or ')}`
            : `the catalog lists no ${o.platform} pack for ${release}; ask the vendor which pack this platform takes`,
      },
    );
  }

  const fromPattern = loaded.packFrom.get(pack);
  if (o.installed !== undefined) {
    if (!scheme.isValid(o.installed))
      throw new UpliftError(
        'UPLIFT_VERSION_INVALID',
        `installed version "${o.installed}" is not a ${scheme.id} version`,
        { hint: 'write the installed version the way the catalog does, e.g. "5.4 Patch 35"' },
      );
    const notUp = scheme.compare(o.installed, release) >= 0;
    const outside = fromPattern !== undefined && !fromPattern.matches(o.installed);
    if (outside || notUp)
      throw new UpliftError(
        'UPLIFT_VENDOR_PACK_WRONG_HOP',
        notUp
          ? `${fileName} leads to ${release}; the installation is already on ${o.installed}, so it would not be an upgrade`
          : `${fileName} upgrades from ${pack.from} to ${release}; the installation is on ${o.installed}`,
        {
          location: { file },
          hint: 'run uplift plan to see the packs of your path, one hop at a time, and use the pack of the current hop',
        },
      );
  }

  if (pack.md5 === undefined && pack.sha256 === undefined)
    throw new UpliftError(
      'UPLIFT_VENDOR_PACK_NO_CHECKSUM',
      `the catalog gives no checksum for ${fileName}; uplift does not trust a pack by its size alone`,
      {
        location,
        hint: `add sha256: (sha256sum of the file you received from the vendor, over a trusted channel) or the vendor's published md5: to this pack entry in ${loaded.file}`,
      },
    );

  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (cause) {
    if (isCode(cause, 'ENOENT'))
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${file}: no such file`, {
        cause,
        location: { file },
        hint: `Download ${basename(file)} from the vendor's download site (the catalog lists it under the release's packs, with its size and checksums), or give the path where it was saved.`,
      });
    throw cause;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile())
      throw new UpliftError('UPLIFT_VENDOR_PACK_BAD_ZIP', `${file}: is not a regular file`, {
        location: { file },
        hint: 'give the path of the downloaded zip itself',
        unchanged: true,
      });
    const size = sizeRule(pack);
    if (Math.abs(stat.size - pack.size) > size.tolerance)
      throw new UpliftError(
        'UPLIFT_VENDOR_PACK_SIZE_MISMATCH',
        `${fileName} is ${stat.size} bytes; the catalog says ${pack.size}${size.check === 'exact' ? '' : ` (± ${size.tolerance}, the precision the vendor publishes)`}`,
        {
          location: { file },
          hint:
            stat.size < pack.size
              ? 'the download is incomplete; download the pack again'
              : 'the file is not the one the vendor published; download the pack again',
          unchanged: true,
        },
      );

    const digests = await hashFile(handle, stat.size, o.onProgress);
    const md5 = compare(pack.md5, digests.md5);
    const sha256 = compare(pack.sha256, digests.sha256);
    const failed = [
      ...(sha256.expected !== undefined && !sha256.checked ? ['SHA-256'] : []),
      ...(md5.expected !== undefined && !md5.checked ? ['MD5'] : []),
    ];
    if (failed.length > 0) {
      const which = failed.includes('SHA-256') ? sha256 : md5;
      throw new UpliftError(
        'UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH',
        `${fileName}: ${failed.join(' and ')} ${failed.length > 1 ? 'do' : 'does'} not match the catalog (expected ${which.expected}, got ${which.actual})`,
        {
          location: { file },
          hint: 'the file is damaged or is not the vendor’s; do not use it, download the pack again',
          // A verify only reads the file.
          unchanged: true,
        },
      );
    }

    const shape = await readVendorZipShape(handle, file, { ...defaultZipLimits, ...o.limits });
    const warnings: string[] = [];
    if (!sha256.checked)
      warnings.push(
        'Only MD5 was checked, as the vendor publishes no other checksum: it detects damage, not a forged file. Add the sha256 of a file obtained over a trusted channel to the catalog.',
      );
    if (size.check !== 'exact')
      warnings.push(
        `The size was checked to the vendor's published precision (± ${size.tolerance} bytes).`,
      );
    return {
      file: resolve(file),
      fileName,
      name,
      catalog: {
        file: loaded.file,
        digest: loaded.digest,
        product: loaded.catalog.product,
      },
      release,
      pack,
      platform: pack.platform,
      build: name.build,
      hop: {
        from: pack.from ?? '*',
        to: release,
        ...(o.installed === undefined ? {} : { installed: o.installed }),
      },
      size: { expected: pack.size, actual: stat.size, ...size },
      checksums: { md5, sha256 },
      sha256Checked: sha256.checked,
      entries: shape.entries,
      uncompressedBytes: shape.uncompressedBytes,
      steps: shape.steps,
      warnings,
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    await handle.close();
  }
}

/** What to do about a name no profile's `vendorPacks.name` pattern matches, with the profiles' examples. */
function unrecognisedHint(namings: VendorPackNaming[]): string {
  if (namings.length === 0)
    return "no profile found declares vendorPacks (how its vendor names its packs); give the product's profile with --profile NAME|DIR, or add its folder to UPLIFT_PROFILE_PATH";
  const examples = [...new Set(namings.map((n) => n.example))].join(' or ');
  return `keep the name the vendor published, as the profile's vendorPacks.name pattern says, e.g. ${examples} (a browser may have added " (1)")`;
}

async function catalogFor(
  naming: VendorPackNaming,
  o: VerifyVendorPackOptions,
): Promise<LoadedCatalog> {
  if (o.catalog) return o.catalog;
  if (o.catalogFile !== undefined) return loadCatalog(o.catalogFile);
  return (await loadProfile(o.profile ?? naming.profileDir)).catalog;
}

/** The one catalog entry for this file: listed under the release its name says, for its platform. */
function findPack(
  fileName: string,
  name: VendorPackName,
  c: LoadedCatalog,
): { pack: Pack; release: string } {
  const listed = [...c.releases.values()].flatMap((r) =>
    (r.packs ?? [])
      .filter((p) => p.file === fileName)
      .map((pack) => ({ pack, release: r.version })),
  );
  const release = c.versions.find((v) => c.scheme.isValid(name.to) && c.scheme.equals(v, name.to));
  const notListed = (message: string, hint: string) =>
    new UpliftError('UPLIFT_VENDOR_PACK_NOT_IN_CATALOG', message, {
      location: { file: c.file },
      hint,
    });
  if (release === undefined)
    throw notListed(
      `${fileName} leads to ${name.to}, which the catalog ${c.file} does not list`,
      'update the catalog (uplift uses the pack only when its catalog lists it), or check that this pack is for this product',
    );
  const under = listed.filter((l) => l.release === release);
  const first = under[0];
  if (!first) {
    const elsewhere = listed[0];
    const platformPacks = (c.releases.get(release)?.packs ?? []).filter(
      (p) => p.platform === name.platform,
    );
    throw notListed(
      elsewhere
        ? `${fileName} is listed under ${elsewhere.release} in ${c.file}, but its name says ${release}`
        : `${fileName} is not among the packs ${c.file} lists for ${release}`,
      platformPacks.length > 0
        ? `the catalog's ${name.platform} pack for ${release} is ${platformPacks.map((p) => p.file).join(' or ')}; download that one`
        : `the catalog lists no ${name.platform} pack for ${release}; update the catalog if the vendor has published one`,
    );
  }
  if (under.length > 1)
    throw new UpliftError(
      'UPLIFT_CATALOG_INVALID',
      `${fileName} is listed ${under.length} times under ${release} in ${c.file}`,
      { location: { file: c.file }, hint: 'keep one pack entry per file' },
    );
  if (first.pack.platform !== name.platform)
    throw notListed(
      `${fileName} names platform ${name.platform}, but ${c.file} lists it for ${first.pack.platform}`,
      'correct the pack entry in the catalog: its platform must match the file name',
    );
  return first;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * The vendor publishes sizes in MB or GB to two decimals (937.93 MB, 2.16 GB), and the catalog
 * stores that figure in bytes. Such a size is checked to half a unit of its last digit; a size the
 * catalog states exactly (any pack with a SHA-256, or a byte count no rounded figure gives) is
 * checked exactly.
 */
export function sizeRule(pack: Pick<Pack, 'size' | 'sha256'>): {
  check: 'exact' | 'published-precision';
  tolerance: number;
} {
  if (pack.sha256 === undefined) {
    for (const unit of [GiB, MiB]) {
      const hundredths = Math.round((pack.size / unit) * 100);
      if (hundredths >= 100 && Math.round((hundredths / 100) * unit) === pack.size)
        return { check: 'published-precision', tolerance: Math.floor(unit / 200) };
    }
  }
  return { check: 'exact', tolerance: 0 };
}

async function hashFile(
  handle: FileHandle,
  size: number,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  const buffer = Buffer.allocUnsafe(MiB);
  let position = 0;
  let lastReport = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    md5.update(chunk);
    sha256.update(chunk);
    position += bytesRead;
    if (onProgress && (position - lastReport >= 64 * MiB || position >= size)) {
      lastReport = position;
      onProgress(position, size);
    }
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

function compare(expected: string | undefined, actual: string): ChecksumResult {
  if (expected === undefined) return { actual, checked: false };
  const a = Buffer.from(expected.toLowerCase(), 'hex');
  const b = Buffer.from(actual, 'hex');
  return { expected, actual, checked: a.length === b.length && timingSafeEqual(a, b) };
}

function isCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
