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
import { runCliProcess } from '../util/run-cli.ts';
import {
  documentedEntries,
  type WrittenZip,
  writeCatalogCopy,
  writeVendorZip,
} from '../util/vendor-zip.ts';

const linux55 = 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip';
const aix55 = 'SecureTransport_5.5_UP1-from-5.4_aix-power-64_BN2306.zip';
const patch1 = 'SecureTransport_5.4_Patch1_UP1-from-5.4_linux-x86-64_BN1938.zip';

let dir: string;
let catalog: string;
let good: WrittenZip;

/** Everything in the folder with its size and modification time: equal before and after = untouched. */
function listing(): string {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = join(d, e.name);
      if (e.isDirectory()) return [`${p}/`, ...walk(p)];
      const s = statSync(p);
      return [`${p} ${s.size} ${s.mtimeMs} ${readFileSync(p).toString('base64').length}`];
    });
  return walk(dir).sort().join('\n');
}

function uplift(args: string[]) {
  const before = listing();
  const r = runCliProcess(['vendor-pack', 'verify', ...args, '--catalog', catalog]);
  expect(listing()).toBe(before);
  return r;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-vendor-pack-e2e-'));
  mkdirSync(join(dir, 'good'));
  mkdirSync(join(dir, 'bad'));
  good = await writeVendorZip(join(dir, 'good', linux55), documentedEntries());
  copyFileSync(good.file, join(dir, 'good', aix55));
  const symlinked = await writeVendorZip(join(dir, 'bad', patch1), [
    ...documentedEntries(),
    { name: 'UpgradeStep2/update.sh', data: '/tmp/elsewhere', mode: 0o120777 },
  ]);
  catalog = writeCatalogCopy(join(dir, 'catalog.yaml'), {
    [linux55]: { size: good.size, md5: good.md5, sha256: good.sha256 },
    // The vendor's own data: MD5 only.
    [aix55]: { size: good.size, md5: 'b'.repeat(32), sha256: null },
    [patch1]: { size: symlinked.size, sha256: symlinked.sha256 },
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('uplift vendor-pack verify (CLI)', () => {
  it('verifies the documented shape and reports release, hop, checksums and both steps as JSON', () => {
    const r = uplift([
      join(dir, 'good', linux55),
      '--platform',
      'linux-x86-64',
      '--installed',
      '5.4 Patch 35',
      '--json',
      '--no-progress',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      release: '5.5 GA',
      platform: 'linux-x86-64',
      build: '2306',
      hop: { from: 'release:5.4', to: '5.5 GA', installed: '5.4 Patch 35' },
      sha256Checked: true,
      checksums: {
        sha256: { actual: good.sha256, checked: true },
        md5: { actual: good.md5, checked: true },
      },
    });
    expect(
      report.steps.map((s: { folder: string; files: unknown[] }) => [s.folder, s.files.length]),
    ).toEqual([
      ['UpgradeStep1', 1],
      ['UpgradeStep2', 1],
    ]);
  });

  it('prints the report for people, with progress on request', () => {
    const r = uplift([join(dir, 'good', linux55), '--progress']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Vendor pack ${linux55} verified`);
    expect(r.stdout).toContain('UpgradeStep1 (installer update):');
    expect(r.stderr).toMatch(/hashing .* MiB\/s/);
  });

  it('exits 1 with the checksum code when the vendor’s MD5 does not match', () => {
    const r = uplift([join(dir, 'good', aix55), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH',
      unchanged: true,
    });
  });

  it('exits 1 for a zip holding a symbolic link, naming the entry', () => {
    const r = uplift([join(dir, 'bad', patch1)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UPLIFT_VENDOR_PACK_BAD_ZIP');
    expect(r.stderr).toContain('"UpgradeStep2/update.sh" is a symbolic link');
  });

  it('exits 3 for the wrong platform and the wrong hop', () => {
    const platform = uplift([join(dir, 'good', linux55), '--platform', 'aix-power-64', '--json']);
    expect(platform.code).toBe(3);
    expect(JSON.parse(platform.stdout).error.code).toBe('UPLIFT_VENDOR_PACK_WRONG_PLATFORM');
    const hop = uplift([join(dir, 'good', linux55), '--installed', '5.3.6 Patch 50', '--json']);
    expect(hop.code).toBe(3);
    expect(JSON.parse(hop.stdout).error.code).toBe('UPLIFT_VENDOR_PACK_WRONG_HOP');
  });

  it('exits 2 for a file whose name is not a vendor pack name', () => {
    const renamed = join(dir, 'good', 'download.zip');
    writeFileSync(renamed, readFileSync(good.file));
    const r = uplift([renamed, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('UPLIFT_VENDOR_PACK_UNRECOGNISED');
  });

  it('documents its exit codes and an example in --help', () => {
    const r = runCliProcess(['vendor-pack', 'verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes: 0 verified');
    // A neutral example: the names themselves are the profile's (vendorPacks.name).
    expect(r.stdout).toContain('Example: uplift vendor-pack verify Product_2.0_UP1-from-1.4_');
    expect(r.stdout).toContain('vendorPacks.name pattern');
    expect(r.stdout).not.toMatch(/securetransport/i);
  });
});

describe('uplift pack verify recognises a vendor pack', () => {
  it('checks it like vendor-pack verify, with no uplift trust needed', () => {
    const before = listing();
    const ok = runCliProcess([
      'pack',
      'verify',
      join(dir, 'good', linux55),
      '--catalog',
      catalog,
      '--platform',
      'linux-x86-64',
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { sha256Checked: boolean; platform: string };
    expect(report.sha256Checked).toBe(true);
    expect(report.platform).toBe('linux-x86-64');

    const damaged = runCliProcess([
      'pack',
      'verify',
      join(dir, 'good', aix55),
      '--catalog',
      catalog,
      '--json',
    ]);
    expect(damaged.code).toBe(1);
    expect(JSON.parse(damaged.stdout).error.code).toBe('UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH');
    expect(listing()).toBe(before);
  });
});
