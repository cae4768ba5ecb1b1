import { beforeAll, describe, expect, it } from 'vitest';
import { securetransportCatalog } from '../../test/util/vendor-zip.ts';
import { type LoadedCatalog, loadCatalog } from '../catalog/index.ts';
import { VendorPacks } from '../profile/schema.ts';
import {
  parseVendorPackName as parseWith,
  type VendorPackNaming,
  vendorPackNamings,
} from './index.ts';

let c: LoadedCatalog;
let naming: VendorPackNaming;
beforeAll(async () => {
  c = await loadCatalog(securetransportCatalog);
  [naming] = (await vendorPackNamings({ profile: 'securetransport' })) as [VendorPackNaming];
});

/** The securetransport profile's naming, as its profile.yaml declares it. */
const parseVendorPackName = (fileName: string) => parseWith(fileName, naming);

describe('parseVendorPackName', () => {
  it('takes the naming from the profile, not from code', () => {
    expect(naming).toMatchObject({
      product: 'securetransport',
      example: 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip',
    });
    expect(parseVendorPackName(naming.example)).toBeDefined();
  });

  it('reads any product’s names with the naming its profile gives', () => {
    const other: VendorPackNaming = {
      ...VendorPacks.parse({
        name: String.raw`^Acme-(?<release>\d+\.\d+)(?:\.(?<keyword>hf)(?<level>\d+))?-(?<update>u\d+)-from-(?<from>[\d.]+)-(?<platform>[a-z]+-[a-z0-9]+)-b(?<build>\d+)\.zip$`,
        example: 'Acme-2.0-u1-from-1.4-linux-x64-b100.zip',
        release: { levels: { hf: '{release} HF{level}' } },
      }),
      product: 'acme',
      profileDir: '/profiles/acme',
    };
    expect(parseWith('Acme-2.0-u1-from-1.4-linux-x64-b100.zip', other)).toEqual({
      product: 'acme',
      to: '2.0',
      update: 'U1',
      from: '1.4',
      fromKind: 'product-release',
      platform: 'linux-x64',
      build: '100',
    });
    expect(parseWith('Acme-2.0.hf3-u1-from-2.0-linux-x64-b101.zip', other)).toMatchObject({
      to: '2.0 HF3',
    });
    expect(parseWith(naming.example, other)).toBeUndefined();
    expect(parseWith('Acme-2.0-u1-from-1.4-linux-x64-b100.zip', naming)).toBeUndefined();
  });

  it.each([
    ['a pattern that does not compile', { name: '^(', example: 'x' }, 'name'],
    [
      'a pattern without a build group',
      {
        name: String.raw`^(?<release>\d+)_(?<update>UP\d+)_(?<from>\d+)_(?<platform>\w+)\.zip$`,
        example: '1_UP1_0_x.zip',
      },
      'name',
    ],
    [
      'an example the pattern does not match',
      {
        name: String.raw`^(?<release>\d+)_(?<update>UP\d+)_(?<from>\d+)_(?<platform>\w+)_(?<build>\d+)\.zip$`,
        example: 'other.zip',
      },
      'example',
    ],
  ])('refuses %s in a profile', (_what, value, field) => {
    const r = VendorPacks.safeParse(value);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual([field]);
  });

  it('reads the guide’s example name', () => {
    expect(parseVendorPackName('SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip')).toEqual(
      {
        product: 'securetransport',
        to: '5.5 GA',
        update: 'UP1',
        from: '5.4',
        fromKind: 'product-release',
        platform: 'linux-x86-64',
        build: '2306',
      },
    );
  });

  it('reads service packs, patches, dated updates and the appliance pack', () => {
    expect(
      parseVendorPackName(
        '/downloads/SecureTransport_5.2.1_SP1_UP1-from-5.2.1_linux-x86-64_BN1014.zip',
      ),
    ).toMatchObject({ to: '5.2.1 SP1', from: '5.2.1', build: '1014' });
    expect(
      parseVendorPackName('SecureTransport_5.3.0_Patch14_UP1-from-5.3.0_aix-power-64_BN1175.zip'),
    ).toMatchObject({ to: '5.3.0 Patch 14', platform: 'aix-power-64' });
    expect(
      parseVendorPackName('SecureTransport_5.5-20240829_UP1-from-5.5_win-x86-64_BN2843.zip'),
    ).toMatchObject({ to: '5.5-20240829', from: '5.5', platform: 'win-x86-64' });
    expect(
      parseVendorPackName('SecureTransport_5.5_UP1-from-7.2_ap-x86-64_BN114.zip'),
    ).toMatchObject({
      to: '5.5 GA',
      from: '7.2',
      fromKind: 'appliance-platform',
      platform: 'ap-x86-64',
    });
  });

  it.each([
    ['the full installer', 'SecureTransport_5.5_Install_linux-x86-64_BN2306.zip'],
    ['a docker image', 'SecureTransport_5.5_DockerImage_edge_linux-x86-64_BN2306.tar.gz'],
    [
      'a browser’s duplicate suffix',
      'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306 (1).zip',
    ],
    ['no build number', 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64.zip'],
    ['no from part', 'SecureTransport_5.5_UP1_linux-x86-64_BN2306.zip'],
    ['another product', 'OtherProduct_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip'],
    ['a patch 0', 'SecureTransport_5.4_Patch0_UP1-from-5.4_linux-x86-64_BN1.zip'],
    ['an unzipped folder', 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306'],
  ])('does not take %s for a pack', (_what, name) => {
    expect(parseVendorPackName(name)).toBeUndefined();
  });

  it('reads every pack file name in securetransport’s catalog back to its release, platform and from', () => {
    const rows = [...c.releases.values()].flatMap((r) =>
      (r.packs ?? []).map((p) => ({ release: r.version, pack: p })),
    );
    expect(rows.length).toBeGreaterThan(500);
    const wrong: string[] = [];
    for (const { release, pack } of rows) {
      const n = parseVendorPackName(pack.file);
      if (!n) {
        wrong.push(`${pack.file}: not recognised`);
        continue;
      }
      if (n.to !== release) wrong.push(`${pack.file}: to ${n.to}, catalog ${release}`);
      if (n.platform !== pack.platform)
        wrong.push(`${pack.file}: platform ${n.platform}, catalog ${pack.platform}`);
      // Product packs: the name's from is the release the catalog's pattern names.
      // The appliance pack's from is an Appliance Platform version, which the catalog cannot name.
      if (n.fromKind === 'product-release' && pack.from !== `release:${n.from}`)
        wrong.push(`${pack.file}: from ${n.from}, catalog ${pack.from}`);
      if (n.fromKind === 'appliance-platform' && !pack.platform.startsWith('ap-'))
        wrong.push(`${pack.file}: appliance from on ${pack.platform}`);
    }
    expect(wrong).toEqual([]);
  });
});
