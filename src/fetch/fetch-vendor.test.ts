import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/util/run-cli.ts';
import {
  documentedEntries,
  type WrittenZip,
  writeCatalogCopy,
  writeVendorZip,
} from '../../test/util/vendor-zip.ts';
import { addToRepository, initRepository, publishIndex } from '../repo/index.ts';
import { generateKeyPair } from '../signing/index.ts';
import { fetchPacks } from './index.ts';

/**
 * securetransport publishes zips with only an MD5: fetch checks a vendor zip it downloads against
 * the catalog it planned with (size, MD5, SHA-256 when listed, platform, hop, zip shape), besides
 * the signed index's size and SHA-256. The catalog here is a copy whose 5.5 GA linux pack
 * describes the synthetic zip.
 */
const linux55 = 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip';

let work: string;
let install: string;
let zip: WrittenZip;

async function repoWith(file: string): Promise<{ repo: string; root: string }> {
  const repo = await mkdtemp(join(work, 'repo-'));
  await rm(repo, { recursive: true });
  const index = generateKeyPair();
  const expires = new Date(Date.now() + 86_400_000);
  await initRepository({
    dir: repo,
    rootKeys: [generateKeyPair().privateKey],
    threshold: 1,
    indexKeys: [index.privateKey],
    indexThreshold: 1,
    packKeys: [generateKeyPair().publicKey],
    rootExpires: expires,
    indexExpires: expires,
  });
  await addToRepository({
    dir: repo,
    files: [file],
    catalog: false,
    attributes: { platform: 'linux-x86-64' },
  });
  await publishIndex({ dir: repo, indexKeys: [index.privateKey], expires });
  return { repo, root: join(repo, '1.root.json') };
}

function profileWith(md5: string): string {
  const dir = join(work, `profile-${md5.slice(0, 8)}`);
  cpSync(join(repoRoot, 'profiles/securetransport'), dir, { recursive: true });
  writeCatalogCopy(join(dir, 'catalog.yaml'), {
    [linux55]: { size: zip.size, md5, sha256: null },
  });
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'uplift-fetch-vendor-'));
  process.env.UPLIFT_STATE_DIR = join(work, 'state');
  install = join(work, 'SecureTransport');
  cpSync(join(repoRoot, 'test/fixtures/securetransport-install/SecureTransport'), install, {
    recursive: true,
  });
  writeFileSync(
    join(install, 'conf/version.info'),
    'ProductName=SecureTransport\nProductVersion=5.4 Patch 35\n',
  );
  zip = await writeVendorZip(join(work, linux55), documentedEntries());
}, 60_000);

afterAll(async () => {
  delete process.env.UPLIFT_STATE_DIR;
  await rm(work, { recursive: true, force: true });
});

/**
 * fetchPacks to 5.5 GA into `out`, from a repository holding the zip, with a catalog that says
 * its MD5 is `md5`.
 */
async function fetchZip(md5: string, out: string) {
  const { repo, root } = await repoWith(zip.file);
  return fetchPacks({
    install,
    profile: profileWith(md5),
    to: '5.5 GA',
    repo,
    root,
    out,
    timeoutMs: 5000,
    retries: 0,
  });
}

describe('fetchPacks with a vendor zip', () => {
  it("keeps it only after the catalog's MD5, platform, hop and zip shape check", async () => {
    const out = join(work, 'out-good');
    const r = await fetchZip(zip.md5, out);

    expect(r.packs.map((p) => p.path)).toEqual([`packs/${linux55}`]);
    expect(r.packs[0]?.checks.join('; ')).toMatch(/vendor pack: MD5 from the catalog, platform/);
    expect(readdirSync(out)).toEqual([linux55]);
  });

  it('removes a zip whose MD5 is not the one the catalog publishes', async () => {
    const out = join(work, 'out-bad');
    const err = await fetchZip('0'.repeat(32), out).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH' });
    expect(readdirSync(out)).toEqual([]);
  });
});
