import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  digestOf,
  documentedEntries,
  type PackOverride,
  pseudoRandom,
  securetransportCatalog,
  type WrittenZip,
  writeCatalogCopy,
  writeVendorZip,
  type ZipEntrySpec,
} from '../../test/util/vendor-zip.ts';
import { type LoadedCatalog, loadCatalog } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import {
  isVendorPackFile,
  renderVendorPackReport,
  sizeRule,
  type VerifyVendorPackOptions,
  verifyVendorPack,
} from './index.ts';

const linux55 = 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip';
const aix55 = 'SecureTransport_5.5_UP1-from-5.4_aix-power-64_BN2306.zip';
const win55 = 'SecureTransport_5.5_UP1-from-5.4_win-x86-64_BN2306.zip';
const dated = 'SecureTransport_5.5-20211216_UP1-from-5.5_linux-x86-64_BN2391.zip';

/** Broken shapes, each written under the name of one of 5.4's linux patch packs. */
const badShapes: { what: string; entries: ZipEntrySpec[]; expect: RegExp }[] = [
  {
    what: 'no UpgradeStep2',
    entries: documentedEntries().slice(0, 2),
    expect: /UpgradeStep2\/ holds no product update file/,
  },
  {
    what: 'an empty UpgradeStep1',
    entries: [{ name: 'UpgradeStep1/', dir: true }, ...documentedEntries().slice(2)],
    expect: /UpgradeStep1\/ holds no installer update file/,
  },
  {
    what: 'a ".." name',
    entries: [...documentedEntries(), { name: 'UpgradeStep1/../../etc/evil.sh', data: 'x' }],
    expect: /climbs out with "\.\."/,
  },
  {
    what: 'an absolute name',
    entries: [...documentedEntries(), { name: '/etc/cron.d/evil', data: 'x' }],
    expect: /is an absolute path/,
  },
  {
    what: 'a drive letter',
    entries: [...documentedEntries(), { name: 'C:/Windows/evil.bat', data: 'x' }],
    expect: /starts with a drive letter/,
  },
  {
    what: 'a backslash',
    entries: [...documentedEntries(), { name: 'UpgradeStep1\\..\\evil', data: 'x' }],
    expect: /contains a backslash/,
  },
  {
    what: 'a NUL character',
    entries: [...documentedEntries(), { name: 'UpgradeStep1/a\u0000.sh', data: 'x' }],
    expect: /NUL or control character/,
  },
  {
    what: 'a control character',
    entries: [...documentedEntries(), { name: 'UpgradeStep1/a\nb', data: 'x' }],
    expect: /NUL or control character/,
  },
  {
    what: 'a control byte in a CP437 name (decoded as a glyph)',
    entries: [...documentedEntries(), { name: 'UpgradeStep1/a\nb', data: 'x', cp437: true }],
    expect: /"UpgradeStep1\/a◙b" contains a NUL or control character/,
  },
  {
    what: 'a symbolic link',
    entries: [
      ...documentedEntries(),
      { name: 'UpgradeStep2/link', data: '/etc/passwd', mode: 0o120777 },
    ],
    expect: /"UpgradeStep2\/link" is a symbolic link/,
  },
  {
    what: 'a device',
    entries: [...documentedEntries(), { name: 'UpgradeStep2/dev', data: 'x', mode: 0o020644 }],
    expect: /is a character device/,
  },
  {
    what: 'a set-user-ID file',
    entries: [...documentedEntries(), { name: 'UpgradeStep2/run', data: 'x', mode: 0o104755 }],
    expect: /set-user-ID/,
  },
  {
    what: 'an encrypted entry',
    entries: [...documentedEntries(), { name: 'UpgradeStep2/secret', data: 'x', encrypted: true }],
    expect: /"UpgradeStep2\/secret" is encrypted/,
  },
  {
    what: 'extra junk beside the steps',
    entries: [...documentedEntries(), { name: 'README.txt', data: 'read me' }],
    expect: /"README\.txt" lies outside UpgradeStep1\/ and UpgradeStep2\//,
  },
  {
    what: 'a duplicate name',
    entries: [
      ...documentedEntries(),
      { name: 'UpgradeStep2/SecureTransport_5.5_update_linux-x86-64.zip', data: 'again' },
    ],
    expect: /appears twice/,
  },
  {
    what: 'names that differ only in case',
    entries: [
      ...documentedEntries(),
      { name: 'UpgradeStep2/SECURETRANSPORT_5.5_update_linux-x86-64.zip', data: 'x' },
    ],
    expect: /differ only in case/,
  },
];

let dir: string;
let c: LoadedCatalog;
let good: WrittenZip;
const badFiles = new Map<string, string>();

const opts = (more: VerifyVendorPackOptions = {}): VerifyVendorPackOptions => ({
  catalog: c,
  ...more,
});

/** Names, sizes, modes and contents of everything in the folder: "unchanged" means equal before and after. */
function snapshot(): string {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return [`${p}/`, ...walk(p)];
      const s = statSync(p);
      return [
        `${p} ${s.size} ${s.mode} ${s.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`,
      ];
    });
  return walk(dir).sort().join('\n');
}

async function refusal(file: string, o: VerifyVendorPackOptions): Promise<UpliftError> {
  const before = snapshot();
  const err = await verifyVendorPack(file, o).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(snapshot()).toBe(before);
  expect(err).toBeInstanceOf(UpliftError);
  return err as UpliftError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-vendor-pack-'));
  const real = await loadCatalog(securetransportCatalog);
  const patchFiles = (real.releases.get('5.4 Patch 1') ? [...real.releases.values()] : [])
    .filter((r) => r.version.startsWith('5.4 Patch'))
    .flatMap((r) =>
      (r.packs ?? []).filter((p) => p.platform === 'linux-x86-64').map((p) => p.file),
    );
  const overrides: Record<string, PackOverride> = {};
  const place = (sub: string, name: string) => {
    mkdirSync(join(dir, sub), { recursive: true });
    return join(dir, sub, name);
  };

  good = await writeVendorZip(place('good', linux55), documentedEntries());
  overrides[linux55] = { size: good.size, md5: good.md5, sha256: good.sha256 };
  // MD5 only, exact size: the aix name over the same bytes.
  copyFileSync(good.file, place('good', aix55));
  overrides[aix55] = { size: good.size, md5: good.md5, sha256: null };
  // MD5 only, size as the vendor publishes it (MB to two decimals): a ~1.3 MiB pack.
  const big = await writeVendorZip(place('good', win55), documentedEntries({ padding: 1_300_000 }));
  const published = Math.round(Math.round((big.size / 1048576) * 100) * 10485.76);
  overrides[win55] = { size: published, md5: big.md5, sha256: null };

  badShapes.forEach((b, i) => {
    const name = patchFiles[i] as string;
    badFiles.set(b.what, name);
  });
  for (const b of badShapes) {
    const name = badFiles.get(b.what) as string;
    const z = await writeVendorZip(place('bad', name), b.entries);
    overrides[name] = { size: z.size, sha256: z.sha256, md5: null };
  }
  // Not a zip at all, and a zip cut short, each with the catalog's checksum of exactly those bytes.
  const junkName = patchFiles[badShapes.length] as string;
  const junk = pseudoRandom(4096);
  writeFileSync(place('bad', junkName), junk);
  overrides[junkName] = { ...digestOf(junk), md5: null };
  badFiles.set('not a zip', junkName);
  const cutName = patchFiles[badShapes.length + 1] as string;
  const cut = readFileSync(good.file).subarray(0, good.size - 30);
  writeFileSync(place('bad', cutName), cut);
  overrides[cutName] = { ...digestOf(cut), md5: null };
  badFiles.set('a truncated zip', cutName);

  // The dated update's catalog entry has no checksum; give its from a test-friendly shape.
  copyFileSync(good.file, place('good', dated));
  overrides[dated] = { size: good.size };

  c = await loadCatalog(writeCatalogCopy(join(dir, 'catalog.yaml'), overrides));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('verifyVendorPack: accepted packs', () => {
  it('accepts the documented shape for its platform and hop, checking SHA-256 and MD5 in one read', async () => {
    let last = 0;
    const r = await verifyVendorPack(
      good.file,
      opts({ platform: 'linux-x86-64', installed: '5.4 Patch 35', onProgress: (b) => (last = b) }),
    );
    expect(last).toBe(good.size);
    expect(r).toMatchObject({
      fileName: linux55,
      release: '5.5 GA',
      platform: 'linux-x86-64',
      build: '2306',
      hop: { from: 'release:5.4', to: '5.5 GA', installed: '5.4 Patch 35' },
      size: { expected: good.size, actual: good.size, check: 'exact', tolerance: 0 },
      checksums: {
        md5: { expected: good.md5, actual: good.md5, checked: true },
        sha256: { expected: good.sha256, actual: good.sha256, checked: true },
      },
      sha256Checked: true,
      entries: 4,
      warnings: [],
    });
    expect(r.steps).toEqual([
      {
        folder: 'UpgradeStep1',
        holds: 'installer update',
        files: [
          expect.objectContaining({
            path: 'UpgradeStep1/AxwayInstaller_update_linux-x86-64.zip',
            size: 17,
          }),
        ],
      },
      {
        folder: 'UpgradeStep2',
        holds: 'product update',
        files: [
          expect.objectContaining({
            path: 'UpgradeStep2/SecureTransport_5.5_update_linux-x86-64.zip',
            size: 15,
          }),
        ],
      },
    ]);
    const text = renderVendorPackReport(r);
    expect(text).toContain(`SHA-256 matches ${good.sha256}`);
    expect(text).toContain('UpgradeStep2 (product update):');
  });

  it('accepts a pack the catalog knows by MD5 only, and says that MD5 alone proves no origin', async () => {
    const r = await verifyVendorPack(join(dir, 'good', aix55), opts({ platform: 'aix-power-64' }));
    expect(r.sha256Checked).toBe(false);
    expect(r.checksums.md5.checked).toBe(true);
    expect(r.checksums.sha256).toEqual({ actual: good.sha256, checked: false });
    expect(r.warnings.join(' ')).toMatch(/Only MD5 was checked/);
    expect(renderVendorPackReport(r)).toContain('SHA-256 not in the catalog');
  });

  it('checks a size the vendor publishes in MB to that precision, and still refuses a short file', async () => {
    const file = join(dir, 'good', win55);
    const r = await verifyVendorPack(file, opts());
    expect(r.size.check).toBe('published-precision');
    expect(r.size.actual).not.toBe(r.size.expected);
    expect(Math.abs(r.size.actual - r.size.expected)).toBeLessThanOrEqual(r.size.tolerance);

    const shortDir = join(dir, 'short');
    mkdirSync(shortDir, { recursive: true });
    const short = join(shortDir, win55);
    writeFileSync(short, readFileSync(file).subarray(0, r.size.actual - 65536));
    const err = await refusal(short, opts());
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_SIZE_MISMATCH');
    expect(err.hint).toMatch(/incomplete/);
  });

  it('derives the size rule from the catalog figure', () => {
    expect(sizeRule({ size: 983490888 })).toEqual({
      check: 'published-precision',
      tolerance: 5242,
    });
    expect(sizeRule({ size: 2319282340 })).toEqual({
      check: 'published-precision',
      tolerance: 5368709,
    });
    expect(sizeRule({ size: 983490888, sha256: 'a'.repeat(64) })).toEqual({
      check: 'exact',
      tolerance: 0,
    });
    expect(sizeRule({ size: 983490889 })).toEqual({ check: 'exact', tolerance: 0 });
    expect(sizeRule({ size: 4000 })).toEqual({ check: 'exact', tolerance: 0 });
  });

  it('recognises pack files by zip magic and name', async () => {
    expect(await isVendorPackFile(good.file)).toBe(true);
    const text = join(dir, 'other', linux55);
    mkdirSync(join(dir, 'other'), { recursive: true });
    writeFileSync(text, 'not a zip');
    expect(await isVendorPackFile(text)).toBe(false);
    const renamed = join(dir, 'other', 'pack.zip');
    copyFileSync(good.file, renamed);
    expect(await isVendorPackFile(renamed)).toBe(false);
    expect(await isVendorPackFile(join(dir, 'missing', linux55))).toBe(false);
  });
});

describe('verifyVendorPack: refusals (each leaves the file and its folder unchanged)', () => {
  it('refuses a name that is not a vendor pack name', async () => {
    const file = join(dir, 'other', 'pack.zip');
    copyFileSync(good.file, file);
    const err = await refusal(file, opts());
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_UNRECOGNISED');
    expect(err.exitCode).toBe(2);
    // The example comes from the profile's vendorPacks, not from code.
    expect(err.hint).toContain(`vendorPacks.name pattern says, e.g. ${linux55}`);
  });

  it('reads the name only with the naming of the profile given', async () => {
    const err = await refusal(good.file, { profile: 'skiff' });
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_UNRECOGNISED');
    expect(err.message).toContain('of the profile skiff');
    expect(err.hint).toMatch(/declares vendorPacks/);
    expect(await isVendorPackFile(good.file, { profile: 'skiff' })).toBe(false);
    expect(await isVendorPackFile(good.file, { profile: 'securetransport' })).toBe(true);
  });

  it('refuses a pack the catalog does not list, naming the one it does', async () => {
    const sub = join(dir, 'unlisted');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN9999.zip');
    copyFileSync(good.file, file);
    const err = await refusal(file, opts());
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_NOT_IN_CATALOG');
    expect(err.hint).toContain(linux55);

    const future = join(sub, 'SecureTransport_6.0_UP1-from-5.5_linux-x86-64_BN1.zip');
    copyFileSync(good.file, future);
    const err2 = await refusal(future, opts());
    expect(err2.code).toBe('UPLIFT_VENDOR_PACK_NOT_IN_CATALOG');
    expect(err2.message).toContain('6.0 GA');
  });

  it('refuses the linux pack on an aix node, naming the aix pack', async () => {
    const err = await refusal(good.file, opts({ platform: 'aix-power-64' }));
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_WRONG_PLATFORM');
    expect(err.exitCode).toBe(3);
    expect(err.hint).toContain(aix55);
  });

  it.each([
    [
      'an installed version outside the pack’s from',
      linux55,
      '5.3.6 Patch 50',
      /upgrades from release:5\.4 to 5\.5 GA/,
    ],
    ['an installation already at the target', linux55, '5.5 GA', /already on 5\.5 GA/],
    [
      'a dated update older than the installed one',
      dated,
      '5.5-20240829',
      /already on 5\.5-20240829/,
    ],
  ])('refuses the wrong hop: %s', async (_what, name, installed, message) => {
    const file = join(dir, 'good', name);
    const err = await refusal(file, opts({ installed }));
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_WRONG_HOP');
    expect(err.message).toMatch(message);
  });

  it('refuses a pack whose catalog entry has no checksum, saying what to add', async () => {
    const err = await refusal(join(dir, 'good', dated), opts({ installed: '5.5 GA' }));
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_NO_CHECKSUM');
    expect(err.hint).toMatch(/add sha256:/);
    expect(err.location?.file).toBe(c.file);
  });

  it('uses the securetransport profile’s own catalog by default: the vendor’s published size', async () => {
    const err = await refusal(good.file, { platform: 'linux-x86-64', installed: '5.4 Patch 35' });
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_SIZE_MISMATCH');
    expect(err.message).toContain(
      `is ${good.size} bytes; the catalog says 983490888 (± 5242, the precision the vendor publishes)`,
    );
  });

  it('refuses a size that differs from the catalog', async () => {
    const sub = join(dir, 'grown');
    mkdirSync(sub, { recursive: true });
    const file = join(sub, linux55);
    writeFileSync(file, Buffer.concat([readFileSync(good.file), Buffer.from([0])]));
    const err = await refusal(file, opts());
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_SIZE_MISMATCH');
    expect(err.message).toContain(`${good.size + 1} bytes; the catalog says ${good.size}`);
  });

  it.each([
    ['SHA-256 (and MD5) when the catalog has both', linux55, /SHA-256 and MD5 do not match/],
    ['MD5 when it is all the catalog has', aix55, /MD5 does not match/],
  ])('refuses a flipped byte by %s', async (_what, name, message) => {
    const sub = join(dir, `flipped-${name}`);
    mkdirSync(sub, { recursive: true });
    const file = join(sub, name);
    const bytes = readFileSync(good.file);
    const at = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    writeFileSync(file, bytes);
    const err = await refusal(file, opts());
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH');
    expect(err.message).toMatch(message);
  });

  it('names SHA-256 alone when only it differs', async () => {
    const other = await loadCatalog(
      writeCatalogCopy(join(dir, 'catalog-sha.yaml'), {
        [linux55]: { size: good.size, md5: good.md5, sha256: 'f'.repeat(64) },
      }),
    );
    const err = await refusal(good.file, { catalog: other });
    expect(err.code).toBe('UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH');
    expect(err.message).toMatch(
      /SHA-256 does not match the catalog \(expected f{64}, got [0-9a-f]{64}\)/,
    );
    expect(err.message).not.toMatch(/MD5/);
  });

  it.each(badShapes.map((b) => [b.what, b.expect] as const))(
    'refuses a zip with %s',
    async (what, message) => {
      const err = await refusal(join(dir, 'bad', badFiles.get(what) as string), opts());
      expect(err.code).toBe('UPLIFT_VENDOR_PACK_BAD_ZIP');
      expect(err.exitCode).toBe(1);
      expect(err.message).toMatch(message);
    },
  );

  it.each([
    ['not a zip', /is not a readable zip/],
    ['a truncated zip', /is not a readable zip/],
  ])(
    'refuses a file that is %s even when its checksum matches the catalog',
    async (what, message) => {
      const err = await refusal(join(dir, 'bad', badFiles.get(what) as string), opts());
      expect(err.code).toBe('UPLIFT_VENDOR_PACK_BAD_ZIP');
      expect(err.message).toMatch(message);
    },
  );

  it('caps the entry count and the declared uncompressed size', async () => {
    const many = await refusal(good.file, opts({ limits: { maxEntries: 3 } }));
    expect(many.code).toBe('UPLIFT_VENDOR_PACK_BAD_ZIP');
    expect(many.message).toMatch(/holds 4 entries, more than the 3/);
    const large = await refusal(good.file, opts({ limits: { maxUncompressedBytes: 20 } }));
    expect(large.code).toBe('UPLIFT_VENDOR_PACK_BAD_ZIP');
    expect(large.message).toMatch(/more than 20 bytes uncompressed/);
  });

  it('lists every problem of a bad zip, not only the first', async () => {
    const err = await refusal(join(dir, 'bad', badFiles.get('no UpgradeStep2') as string), opts());
    expect(err.details.map((d) => d.message)).toEqual([
      "UpgradeStep2/ holds no product update file (the vendor's packs hold one in each step)",
    ]);
  });
});
