import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assemble,
  base,
  craftPack,
  type RawEntry,
  tarOf,
  zstdOf,
} from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, signBytes, type TrustSet, trustOf } from '../signing/index.ts';
import { type InstalledVersion, type PackFile, type PackManifest, verifyPack } from './index.ts';
import { workerThreshold } from './payload-source.ts';

const key = generateKeyPair();
const stranger = generateKeyPair();
const trust = trustOf([key.publicKey]);
const installed: InstalledVersion = {
  product: 'skiff',
  version: base.from,
  platform: base.platform,
};

const good: RawEntry[] = [
  { name: 'lib/server.js', body: 'console.log("new")\n'.repeat(200) },
  { name: 'version', body: '5.4 Patch 2\n' },
];

interface Refusal {
  trust?: TrustSet;
  install?: InstalledVersion;
  /** Words the message must contain. */
  message?: string;
}

/**
 * Verifies `pack` with staging beside a real target installation, and checks the promise of every
 * failure: the expected code, no staging left, the target and the folder exactly as before.
 */
async function expectRefused(pack: Buffer, code: string, o: Refusal = {}): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), 'uplift-pack-bad-'));
  const target = join(d, 'install');
  mkdirSync(join(target, 'lib'), { recursive: true });
  writeFileSync(join(target, 'version'), '5.4 GA\n');
  writeFileSync(join(target, 'lib/server.js'), 'console.log("old")\n');
  const file = join(d, 'p.upk');
  writeFileSync(file, pack);
  const before = await hashTree(d);

  const verifying = verifyPack(file, {
    trust: o.trust ?? trust,
    install: o.install ?? installed,
    stageInto: join(d, 'stage'),
  });

  await expect(verifying).rejects.toMatchObject({ code, unchanged: true });
  const err = (await verifying.catch((e: unknown) => e)) as Error;
  expect(err.message).toContain(file);
  if (o.message) expect(err.message).toContain(o.message);
  expect(existsSync(join(d, 'stage'))).toBe(false);
  expect(readdirSync(d).sort()).toEqual(['install', 'p.upk']);
  expect((await hashTree(d)).hash).toBe(before.hash);
}

const valid = () => craftPack({ key: key.privateKey, entries: good });

describe('verifyPack should refuse and not write if', () => {
  it('the crafted valid pack passes (the baseline the cases below break)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-ok-'));
    writeFileSync(join(d, 'p.upk'), await valid());

    const r = await verifyPack(join(d, 'p.upk'), {
      trust,
      install: installed,
      stageInto: join(d, 's'),
    });

    expect(r.staged).toBe(join(d, 's'));
    expect(readdirSync(join(d, 's/lib'))).toEqual(['server.js']);
  });

  describe('the signature or key is wrong', () => {
    it.each([
      [
        'missing',
        () => craftPack({ key: key.privateKey, entries: good, signature: null }),
        'UPLIFT_PACK_SIGNATURE_MISSING',
        {},
      ],
      [
        'over other bytes',
        () => craftPack({ key: key.privateKey, entries: good, signature: Buffer.from('{}') }),
        'UPLIFT_PACK_SIGNATURE_INVALID',
        {},
      ],
      [
        'by an untrusted key',
        () => craftPack({ key: stranger.privateKey, entries: good }),
        'UPLIFT_PACK_KEY_UNTRUSTED',
        {},
      ],
      [
        'by a revoked key',
        valid,
        'UPLIFT_PACK_KEY_REVOKED',
        { trust: trustOf([key.publicKey], [key.publicKey.keyid]) },
      ],
      [
        'checked against an empty trust',
        valid,
        'UPLIFT_PACK_KEY_UNTRUSTED',
        { trust: trustOf([]) },
      ],
      [
        'not an envelope',
        async () => assemble(Buffer.from('{}'), Buffer.from('not json'), Buffer.alloc(0)),
        'UPLIFT_PACK_SIGNATURE_INVALID',
        {},
      ],
    ] as const)('%s', async (_n, make, code, o: Refusal) => {
      await expectRefused(await make(), code, o);
    });
  });

  describe('the header or metadata is wrong', () => {
    const signed = (manifest: Buffer) =>
      assemble(
        manifest,
        Buffer.from(JSON.stringify(signBytes(key.privateKey, manifest))),
        Buffer.alloc(0),
      );
    it.each([
      [
        'another magic',
        () =>
          craftPack({
            key: key.privateKey,
            entries: good,
            header: { magic: Buffer.from('PK\x03\x04ZIPS') },
          }),
        'UPLIFT_PACK_NOT_A_PACK',
      ],
      [
        'a future format version',
        () => craftPack({ key: key.privateKey, entries: good, header: { version: 2 } }),
        'UPLIFT_PACK_NOT_A_PACK',
      ],
      [
        'reserved bytes set',
        () => craftPack({ key: key.privateKey, entries: good, header: { reserved: 1 } }),
        'UPLIFT_PACK_NOT_A_PACK',
      ],
      [
        'a declared 17 MiB manifest',
        () =>
          craftPack({ key: key.privateKey, entries: good, header: { manifestBytes: 17 << 20 } }),
        'UPLIFT_PACK_METADATA_TOO_LARGE',
      ],
      [
        'a declared 4 GiB signature',
        () =>
          craftPack({ key: key.privateKey, entries: good, header: { signatureBytes: 0xffffffff } }),
        'UPLIFT_PACK_METADATA_TOO_LARGE',
      ],
      [
        'a real 20 MB manifest',
        async () => signed(Buffer.alloc(20e6, 0x20)),
        'UPLIFT_PACK_METADATA_TOO_LARGE',
      ],
      [
        'a real 10 MB signature',
        async () => assemble(Buffer.from('{}'), Buffer.alloc(10e6, 0x20), Buffer.alloc(0)),
        'UPLIFT_PACK_METADATA_TOO_LARGE',
      ],
      [
        'a signed manifest that is not JSON',
        async () => signed(Buffer.from('{"format":')),
        'UPLIFT_PACK_MANIFEST_INVALID',
      ],
      [
        'a signed manifest of another format',
        () =>
          craftPack({
            key: key.privateKey,
            entries: good,
            edit: (m) => Object.assign(m, { format: 'uplift-pack/9' }),
          }),
        'UPLIFT_PACK_MANIFEST_INVALID',
      ],
      [
        'a signed manifest with an unknown field',
        () =>
          craftPack({
            key: key.privateKey,
            entries: good,
            edit: (m) => Object.assign(m, { extra: 1 }),
          }),
        'UPLIFT_PACK_MANIFEST_INVALID',
      ],
      [
        'a manifest whose totals disagree',
        () =>
          craftPack({
            key: key.privateKey,
            entries: good,
            edit: (m) => {
              m.payload.entries = 5;
            },
          }),
        'UPLIFT_PACK_MANIFEST_INVALID',
      ],
      [
        'a manifest file under another file',
        () =>
          craftPack({
            key: key.privateKey,
            entries: good,
            edit: (m) => {
              m.files.push({ path: 'version/x', action: 'delete' });
            },
          }),
        'UPLIFT_PACK_MANIFEST_INVALID',
      ],
    ] as const)('%s', async (_n, make, code) => {
      await expectRefused(await make(), code);
    });
  });

  describe('the file is cut short or has more', () => {
    it.each([
      ['0 bytes', 0],
      ['1 byte', 1],
      ['mid-header', 10],
      ['mid-manifest', 200],
      ['half', 0.5],
      ['one byte short', -1],
    ] as const)('cut at %s', async (_n, at) => {
      const whole = await valid();
      const cut = at < 0 ? whole.length + at : at < 1 ? Math.floor(whole.length * at) : at;

      await expectRefused(whole.subarray(0, cut), 'UPLIFT_PACK_TRUNCATED');
    });

    it('one byte after the payload', async () => {
      await expectRefused(
        Buffer.concat([await valid(), Buffer.from([0])]),
        'UPLIFT_PACK_TRAILING_DATA',
      );
    });
  });

  describe('a byte is flipped', () => {
    it.each([
      ['magic', () => 0, 'UPLIFT_PACK_NOT_A_PACK'],
      ['format version', () => 9, 'UPLIFT_PACK_NOT_A_PACK'],
      ['manifest length, high byte', () => 12, 'UPLIFT_PACK_METADATA_TOO_LARGE'],
      ['manifest length, low byte', () => 15, 'UPLIFT_PACK_SIGNATURE_INVALID'],
      ['manifest start', () => 20, 'UPLIFT_PACK_SIGNATURE_INVALID'],
      ['manifest middle', (p: Parts) => 20 + Math.floor(p.m / 2), 'UPLIFT_PACK_SIGNATURE_INVALID'],
      ['manifest end', (p: Parts) => 20 + p.m - 1, 'UPLIFT_PACK_SIGNATURE_INVALID'],
      ['signature value', (p: Parts) => 20 + p.m + 100, 'UPLIFT_PACK_SIGNATURE_INVALID'],
      [
        'signer key id',
        (p: Parts, b: Buffer) => hexFlippable(b, 20 + p.m + 10),
        'UPLIFT_PACK_KEY_UNTRUSTED',
      ],
      ['payload start', (p: Parts) => p.payload, 'UPLIFT_PACK_CORRUPT'],
      [
        'payload middle',
        (p: Parts) => p.payload + Math.floor((p.total - p.payload) / 2),
        'UPLIFT_PACK_CORRUPT',
      ],
      ['payload end', (p: Parts) => p.total - 1, 'UPLIFT_PACK_CORRUPT'],
    ] as const)('in the %s', async (_n, offset, code) => {
      const pack = await valid();
      const at = offset(partsOf(pack), pack);
      pack[at] = (pack[at] ?? 0) ^ 0x01;

      await expectRefused(pack, code);
    });

    it('anywhere: 48 offsets across the whole file are each refused', async () => {
      const pack = await valid();
      const codes = new Set<string>();

      for (let i = 0; i < 48; i++) {
        const at = Math.floor((i * (pack.length - 1)) / 47);
        const copy = Buffer.from(pack);
        copy[at] = (copy[at] ?? 0) ^ 0x80;
        const d = mkdtempSync(join(tmpdir(), 'uplift-pack-flip-'));
        writeFileSync(join(d, 'p.upk'), copy);
        const err = await verifyPack(join(d, 'p.upk'), { trust, stageInto: join(d, 's') }).then(
          () => undefined,
          (e: { code: string }) => e,
        );
        expect(err, `flip at ${at}`).toBeDefined();
        codes.add(err?.code ?? '');
        expect(readdirSync(d)).toEqual(['p.upk']);
      }

      expect(codes.has('UPLIFT_PACK_CORRUPT')).toBe(true);
      expect(codes.has('UPLIFT_PACK_SIGNATURE_INVALID')).toBe(true);
    });
  });

  describe('the payload does not match the manifest', () => {
    it.each([
      [
        'an entry the manifest does not list',
        { entries: [...good, { name: 'lib/extra.js', body: 'x' }], files: listed(good) },
        'UPLIFT_PACK_ENTRY_UNLISTED',
      ],
      [
        'a listed file missing from the payload',
        { entries: [good[0] as RawEntry], files: listed(good) },
        'UPLIFT_PACK_ENTRY_MISSING',
      ],
      [
        'a name twice in the payload',
        { entries: [...good, good[1] as RawEntry], files: listed(good) },
        'UPLIFT_PACK_ENTRY_DUPLICATE',
      ],
      [
        'a name twice in the manifest',
        { entries: good, files: [...listed(good), { path: 'version', action: 'delete' }] },
        'UPLIFT_PACK_ENTRY_DUPLICATE',
      ],
      [
        'an entry larger than listed',
        { entries: good, files: listed(good, { version: 3 }) },
        'UPLIFT_PACK_SIZE_EXCEEDED',
      ],
      [
        'an entry smaller than listed',
        { entries: good, files: listed(good, { version: 30 }) },
        'UPLIFT_PACK_CORRUPT',
      ],
      [
        'an entry with other content',
        {
          entries: good,
          files: listed([good[0] as RawEntry, { name: 'version', body: '5.4 Patch 9\n' }]),
        },
        'UPLIFT_PACK_CORRUPT',
      ],
    ] as const)('%s', async (_n, parts, code) => {
      const files = [...parts.files] as PackFile[];
      const pack = await craftPack({
        key: key.privateKey,
        entries: parts.entries,
        files,
        edit: (m) => {
          m.payload.entries = files.filter((f) => f.action !== 'delete').length;
          m.space.stage = files.reduce((n, f) => n + (f.action === 'delete' ? 0 : f.size), 0);
          if (parts.files.filter((f) => f.path === 'version').length > 1) m.payload.entries = 2;
        },
      });

      await expectRefused(pack, code);
    });

    it("the payload is swapped for another pack's of the same size (mix and match)", async () => {
      // Random bytes now and then compress by a few bytes: draw until the sizes agree.
      const draw = () => [{ name: 'lib/blob', body: randomBytes(4096) }];
      let mine = draw();
      let theirs: Buffer = Buffer.alloc(0);
      for (let i = 0; i < 50; i++) {
        mine = draw();
        theirs = zstdOf(await tarOf(draw()));
        if (theirs.length === zstdOf(await tarOf(mine)).length) break;
      }
      expect(theirs.length).toBe(zstdOf(await tarOf(mine)).length);

      await expectRefused(
        await craftPack({ key: key.privateKey, entries: mine, payload: () => theirs }),
        'UPLIFT_PACK_CORRUPT',
      );
    });
  });

  describe('a path is unsafe', () => {
    it.each([
      '../../etc/cron.d/x',
      'a/../../x',
      'sub/..',
      '..\\x',
      'C:\\x',
      'C:/x',
      '\\\\server\\share',
      '/etc/passwd',
      '//etc/passwd',
      'lib/a\nb',
      'lib/a\u001bb',
      'a//b',
      './a',
      'dir/',
      `${'x'.repeat(300)}`,
      `${'dd/'.repeat(1400)}f`,
    ])('a payload entry named %j', async (name) => {
      const pack = await craftPack({
        key: key.privateKey,
        entries: [...good, { name, body: 'x' }],
        files: listed(good),
      });

      await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH');
    });

    it.each(['../x', '/etc/passwd', 'a\u0000b', 'C:x', 'a\\b', '.uplift-pack/x'])(
      'a manifest path %j',
      async (path) => {
        const pack = await craftPack({
          key: key.privateKey,
          entries: good,
          edit: (m) => {
            m.files.push({ path, action: 'delete' });
          },
        });

        await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH');
      },
    );
  });

  describe('an entry is a link, a device or has a special mode', () => {
    it.each([
      ['a symlink', { name: 'lib/link', type: 'symlink', linkname: '/etc' }],
      ['a symlink then a file through it', { name: 'lib', type: 'symlink', linkname: '/etc' }],
      ['a hard link', { name: 'lib/shadow', type: 'link', linkname: '/etc/shadow' }],
      ['a character device', { name: 'lib/null', type: 'character-device' }],
      ['a block device', { name: 'lib/sda', type: 'block-device' }],
      ['a fifo', { name: 'lib/fifo', type: 'fifo' }],
      ['a directory', { name: 'lib/dir', type: 'directory', mode: 0o777 }],
      ['a setuid file', { name: 'lib/suid', body: 'x', mode: 0o4755 }],
      ['a world-writable file', { name: 'lib/ww', body: 'x', mode: 0o666 }],
    ] as const)('%s', async (_n, entry: RawEntry) => {
      const pack = await craftPack({
        key: key.privateKey,
        entries: [entry, ...good],
        files: listed(good),
      });

      await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_ENTRY');
    });

    it('a manifest mode with setgid', async () => {
      const files = listed(good);
      const pack = await craftPack({
        key: key.privateKey,
        entries: good,
        files: files.map((f) => ({ ...f, mode: 0o2755 })) as typeof files,
      });

      await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_ENTRY');
    });
  });

  describe('the payload is a zip bomb', () => {
    const zeros: RawEntry = { name: 'lib/big', body: Buffer.alloc(64 << 20) };

    it('it unpacks to more than the manifest declares', async () => {
      const pack = await craftPack({
        key: key.privateKey,
        entries: [zeros],
        edit: (m) => {
          m.payload.unpackedBytes = 1 << 20;
        },
      });
      expect(pack.length).toBeLessThan(64 << 10);

      await expectRefused(pack, 'UPLIFT_PACK_SIZE_EXCEEDED');
    });

    it('an entry is larger than its listed size', async () => {
      const pack = await craftPack({
        key: key.privateKey,
        entries: [zeros],
        files: listed([{ name: 'lib/big', body: 'small' }]),
      });

      await expectRefused(pack, 'UPLIFT_PACK_SIZE_EXCEEDED');
    });
  });

  describe('the pack is not for this installation', () => {
    it.each([
      [
        'the wrong platform',
        { ...installed, platform: 'linux-arm64' },
        'UPLIFT_PACK_WRONG_PLATFORM',
      ],
      [
        'a from-range without the installed version',
        { ...installed, version: '5.3.6 GA' },
        'UPLIFT_PACK_FROM_MISMATCH',
      ],
      [
        'another product',
        { ...installed, product: 'securetransport' },
        'UPLIFT_PACK_FROM_MISMATCH',
      ],
      [
        'a downgrade: the installation is newer',
        { ...installed, version: '5.5 GA' },
        'UPLIFT_PACK_DOWNGRADE',
      ],
      [
        'a downgrade: the installation is at the target',
        { ...installed, version: base.to },
        'UPLIFT_PACK_DOWNGRADE',
      ],
    ] as const)('%s', async (_n, install, code) => {
      await expectRefused(await valid(), code, { install });
    });

    it('a signed pack that goes back a version', async () => {
      const pack = await craftPack({
        key: key.privateKey,
        entries: good,
        edit: (m) => {
          m.to = '5.3.0 GA';
        },
      });

      await expectRefused(pack, 'UPLIFT_PACK_DOWNGRADE');
    });
  });

  it('refuses a staging directory that exists and leaves it as it was', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-stage-'));
    writeFileSync(join(d, 'p.upk'), await valid());
    mkdirSync(join(d, 'stage'));
    writeFileSync(join(d, 'stage/keep'), 'mine');
    const before = await hashTree(d);

    await expect(
      verifyPack(join(d, 'p.upk'), { trust, stageInto: join(d, 'stage') }),
    ).rejects.toMatchObject({ code: 'UPLIFT_PACK_STAGING_FAILED' });

    expect((await hashTree(d)).hash).toBe(before.hash);
  });

  describe('the payload is decoded on the worker thread (16 MiB and more)', () => {
    const blob: RawEntry = { name: 'lib/blob', body: randomBytes(workerThreshold + (2 << 20)) };
    const text: RawEntry = {
      name: 'lib/text.log',
      body: Buffer.from('2024-01-01T00:00:00Z INFO upload ok\n'.repeat(200_000)),
    };
    const big = (edit?: (m: PackManifest) => void) =>
      craftPack({ key: key.privateKey, entries: [blob, text], ...(edit ? { edit } : {}) });

    it('stages every file byte for byte, with the hashes of the whole file', async () => {
      const pack = await big();
      expect(pack.length - partsOf(pack).payload).toBeGreaterThanOrEqual(workerThreshold);
      const d = mkdtempSync(join(tmpdir(), 'uplift-pack-worker-'));
      writeFileSync(join(d, 'p.upk'), pack);
      const seen: number[] = [];
      const r = await verifyPack(join(d, 'p.upk'), {
        trust,
        stageInto: join(d, 's'),
        onProgress: (n) => seen.push(n),
      });
      expect(r.sha256).toBe(createHash('sha256').update(pack).digest('hex'));
      expect(readFileSync(join(d, 's/lib/blob')).equals(blob.body as Buffer)).toBe(true);
      expect(readFileSync(join(d, 's/lib/text.log')).equals(text.body as Buffer)).toBe(true);
      expect(seen.at(-1)).toBe(pack.length);
    });

    it('a byte in the middle of the payload is flipped', async () => {
      const pack = await big();
      const p = partsOf(pack);
      const at = p.payload + Math.floor((p.total - p.payload) / 2);
      pack[at] = (pack[at] as number) ^ 1;
      await expectRefused(pack, 'UPLIFT_PACK_CORRUPT');
    });

    it('it unpacks to more than the manifest declares', async () => {
      const pack = await big((m) => {
        m.payload.unpackedBytes = 8 << 20;
      });
      await expectRefused(pack, 'UPLIFT_PACK_SIZE_EXCEEDED');
    });

    it('a well-signed entry after the big one has another hash than listed', async () => {
      const pack = await big((m) => {
        const f = m.files.find((x) => x.path === 'lib/text.log');
        if (f && f.action !== 'delete') f.sha256 = '0'.repeat(64);
      });
      await expectRefused(pack, 'UPLIFT_PACK_CORRUPT', { message: 'has SHA-256' });
    });
  });

  it('verifies a 64 MiB incompressible file with memory well below its size', async () => {
    const body = randomBytes(64 << 20);
    const pack = await craftPack({ key: key.privateKey, entries: [{ name: 'lib/blob', body }] });
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-mem-'));
    writeFileSync(join(d, 'p.upk'), pack);
    const baseline = process.memoryUsage();
    let peakExternal = 0;
    let peakRss = 0;

    await verifyPack(join(d, 'p.upk'), {
      trust,
      stageInto: join(d, 's'),
      onProgress: () => {
        const m = process.memoryUsage();
        peakExternal = Math.max(
          peakExternal,
          m.external + m.arrayBuffers - baseline.external - baseline.arrayBuffers,
        );
        peakRss = Math.max(peakRss, m.rss - baseline.rss);
      },
    });

    expect(peakExternal).toBeLessThan(24 << 20);
    expect(peakRss).toBeLessThan(32 << 20);
  });
});

interface Parts {
  m: number;
  s: number;
  payload: number;
  total: number;
}

function partsOf(pack: Buffer): Parts {
  const m = pack.readUInt32BE(12);
  const s = pack.readUInt32BE(16);
  return { m, s, payload: 20 + m + s, total: pack.length };
}

/** The manifest's add entries for these raw entries, with sizes overridden per path. */
function listed(entries: readonly RawEntry[], sizes: Record<string, number> = {}) {
  return entries.map((e) => {
    const body = Buffer.from(e.body ?? '');
    return {
      path: e.name,
      action: 'add' as const,
      size: sizes[e.name] ?? body.length,
      mode: e.mode ?? 0o644,
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  });
}

/** The first offset from `from` whose hex digit stays a hex digit when bit 0 flips (0-9, b-e). */
function hexFlippable(pack: Buffer, from: number): number {
  for (let i = from; ; i++) if (/[0-9b-e]/.test(String.fromCharCode(pack[i] ?? 0))) return i;
}
