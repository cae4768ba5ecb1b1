import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { craftPack, type RawEntry, writeReleaseTree } from '../../test/util/pack-assemble.ts';
import { put } from '../../test/util/tree-fixture.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { buildPack, makeReleaseTree, type PackManifest, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);

/** Two release trees of skiff made from folders: links and empty directories change between them. */
function trees() {
  const d = mkdtempSync(join(tmpdir(), 'uplift-links-'));
  const a = join(d, 'src-a');
  put(a, 'version', '5.4 GA\n');
  put(a, 'lib/cli.js', 'old cli\n', 0o755);
  mkdirSync(join(a, 'bin'));
  symlinkSync('../lib/cli.js', join(a, 'bin/cli'));
  symlinkSync('../lib/cli.js', join(a, 'bin/gone'));
  mkdirSync(join(a, 'cache'));
  const b = join(d, 'src-b');
  put(b, 'version', '5.4 Patch 2\n');
  put(b, 'lib/cli.js', 'new cli\n', 0o755);
  put(b, 'lib/v2/cli.js', 'v2\n', 0o755);
  mkdirSync(join(b, 'bin'));
  symlinkSync('../lib/v2/cli.js', join(b, 'bin/cli'));
  symlinkSync('lib/v2', join(b, 'current'));
  mkdirSync(join(b, 'var/log'), { recursive: true });
  const opts = { product: 'skiff', platform: 'linux-x86-64' };
  makeReleaseTree({ ...opts, dir: a, version: '5.4 GA', out: join(d, 'a') });
  makeReleaseTree({ ...opts, dir: b, version: '5.4 Patch 2', out: join(d, 'b') });
  return { d, a: join(d, 'a'), b: join(d, 'b') };
}

describe('packs with symbolic links and empty directories', () => {
  it('builds a 1.1 delta, verifies it and stages the links and directories', async () => {
    const t = trees();

    const built = await buildPack({
      fromTree: t.a,
      toTree: t.b,
      platform: 'linux-x86-64',
      delta: true,
      key: key.privateKey,
      out: join(t.d, 'p.upk'),
    });
    const r = await verifyPack(built.file, { trust, stageInto: join(t.d, 'stage') });

    expect(r.manifest.format).toBe('uplift-pack/1.1');
    expect(r.manifest.symlinks).toEqual([
      { path: 'bin/cli', action: 'replace', target: '../lib/v2/cli.js' },
      { path: 'bin/gone', action: 'delete' },
      { path: 'current', action: 'add', target: 'lib/v2' },
    ]);
    expect(r.manifest.directories).toEqual([
      { path: 'cache', action: 'delete' },
      { path: 'var/log', action: 'add', mode: 0o755 },
    ]);
    expect(r.manifest.payload.entries).toBe(6);
    expect(readlinkSync(join(t.d, 'stage/bin/cli'))).toBe('../lib/v2/cli.js');
    expect(readlinkSync(join(t.d, 'stage/current'))).toBe('lib/v2');
    expect(lstatSync(join(t.d, 'stage/var/log')).isDirectory()).toBe(true);
    expect(readdirSync(join(t.d, 'stage/var/log'))).toEqual([]);
  });

  it('a full pack lists every link and empty directory; a tree without them stays format 1', async () => {
    const t = trees();
    const plain = mkdtempSync(join(tmpdir(), 'uplift-plain-'));
    writeReleaseTree(join(plain, 'a'), '5.4 GA', { version: '5.4 GA\n' });
    writeReleaseTree(join(plain, 'b'), '5.4 Patch 2', { version: '5.4 Patch 2\n' });

    const full = await buildPack({
      fromTree: t.a,
      toTree: t.b,
      platform: 'linux-x86-64',
      key: key.privateKey,
      out: join(t.d, 'full.upk'),
    });
    const old = await buildPack({
      fromTree: join(plain, 'a'),
      toTree: join(plain, 'b'),
      platform: 'linux-x86-64',
      key: key.privateKey,
      out: join(plain, 'p.upk'),
    });

    expect(full.manifest.symlinks?.filter((l) => l.action !== 'delete').map((l) => l.path)).toEqual(
      ['bin/cli', 'current'],
    );
    expect(old.manifest.format).toBe('uplift-pack/1');
    expect(old.manifest).not.toHaveProperty('symlinks');
    await expect(verifyPack(old.file, { trust })).resolves.toBeDefined();
  });

  it('refuses to build for another platform than the release trees name', async () => {
    const t = trees();

    await expect(
      buildPack({
        fromTree: t.a,
        toTree: t.b,
        platform: 'linux-arm64',
        key: key.privateKey,
        out: join(t.d, 'p.upk'),
      }),
    ).rejects.toMatchObject({ code: 'UPLIFT_PACK_BUILD_INPUT' });
    expect(existsSync(join(t.d, 'p.upk'))).toBe(false);
  });
});

const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const server: RawEntry = { name: 'lib/server.js', body: 'console.log("new")\n' };

/** A 1.1 pack whose manifest lists `links`/`dirs` beside the files of `entries`. */
function hostile(
  entries: RawEntry[],
  links: NonNullable<PackManifest['symlinks']>,
  more: (m: PackManifest) => void = () => {},
) {
  return craftPack({
    key: key.privateKey,
    entries,
    files: entries
      .filter((e) => (e.type ?? 'file') === 'file')
      .map((e) => ({
        path: e.name,
        action: 'add' as const,
        size: Buffer.byteLength(e.body ?? ''),
        mode: 0o644,
        sha256: sha(String(e.body ?? '')),
      })),
    edit: (m) => {
      m.format = 'uplift-pack/1.1';
      m.symlinks = links;
      m.directories = [];
      m.payload.entries += links.filter((l) => l.action !== 'delete').length;
      more(m);
    },
  });
}

async function expectRefused(pack: Buffer, code: string, words?: string): Promise<void> {
  const d = mkdtempSync(join(tmpdir(), 'uplift-links-bad-'));
  mkdirSync(join(d, 'install/lib'), { recursive: true });
  writeFileSync(join(d, 'install/lib/server.js'), 'old\n');
  writeFileSync(join(d, 'p.upk'), pack);
  const before = await hashTree(d);

  const verifying = verifyPack(join(d, 'p.upk'), { trust, stageInto: join(d, 'stage') });

  await expect(verifying).rejects.toMatchObject({ code, unchanged: true });
  if (words) await expect(verifying).rejects.toThrow(words);
  expect(readdirSync(d).sort()).toEqual(['install', 'p.upk']);
  expect((await hashTree(d)).hash).toBe(before.hash);
}

describe('verifyPack should refuse and not write if', () => {
  it('the baseline hostile() pack with a safe link passes', async () => {
    const pack = await hostile(
      [server, { name: 'lib/alias.js', type: 'symlink', linkname: 'server.js' }],
      [{ path: 'lib/alias.js', action: 'add', target: 'server.js' }],
    );
    const d = mkdtempSync(join(tmpdir(), 'uplift-links-ok-'));
    writeFileSync(join(d, 'p.upk'), pack);

    await verifyPack(join(d, 'p.upk'), { trust, stageInto: join(d, 'stage') });

    expect(readlinkSync(join(d, 'stage/lib/alias.js'))).toBe('server.js');
  });

  it.each([
    ['climbs out with ../../etc', 'lib/etc', '../../etc', 'outside the tree'],
    ['is absolute', 'lib/passwd', '/etc/passwd', 'absolute'],
    ['climbs after a name', 'lib/up', 'x/../../..', '".." after a name'],
  ])('a manifest link %s', async (_n, path, target, words) => {
    const pack = await hostile(
      [server, { name: path, type: 'symlink', linkname: target }],
      [{ path, action: 'add', target }],
    );

    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH', path);
    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH', words);
  });

  it('a manifest lists a file through a link (link then file)', async () => {
    const pack = await hostile(
      [
        { name: 'lib', type: 'symlink', linkname: 'sub' },
        { name: 'lib/server.js', body: 'through the link' },
      ],
      [{ path: 'lib', action: 'add', target: 'sub' }],
    );

    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH', 'lies under the symbolic link');
  });

  it('the payload link points elsewhere than its signed manifest says', async () => {
    const pack = await hostile(
      [server, { name: 'lib/etc', type: 'symlink', linkname: '../../etc' }],
      [{ path: 'lib/etc', action: 'add', target: 'server.js' }],
    );

    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH', 'outside the tree');
  });

  it('the payload has a link then an unlisted file through it', async () => {
    const pack = await hostile(
      [
        { name: 'a', type: 'symlink', linkname: 'lib' },
        { name: 'a/x', body: 'through the link' },
        server,
      ],
      [{ path: 'a', action: 'add', target: 'lib' }],
      (m) => {
        m.files = m.files.filter((f) => f.path !== 'a/x');
        m.payload.entries -= 1;
        m.space.stage -= 'through the link'.length;
      },
    );

    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_PATH', 'lies under the symbolic link "a"');
  });

  it('the payload holds a file where the manifest lists a link', async () => {
    const pack = await hostile(
      [server, { name: 'lib/alias.js', body: 'not a link' }],
      [{ path: 'lib/alias.js', action: 'add', target: 'server.js' }],
      (m) => {
        m.files = m.files.filter((f) => f.path !== 'lib/alias.js');
        m.payload.entries -= 1;
        m.space.stage -= 'not a link'.length;
      },
    );

    await expectRefused(pack, 'UPLIFT_PACK_UNSAFE_ENTRY', 'lib/alias.js');
  });

  it('a format 1 manifest lists symlinks', async () => {
    const pack = await hostile(
      [server, { name: 'lib/alias.js', type: 'symlink', linkname: 'server.js' }],
      [{ path: 'lib/alias.js', action: 'add', target: 'server.js' }],
      (m) => {
        m.format = 'uplift-pack/1';
      },
    );

    await expectRefused(pack, 'UPLIFT_PACK_MANIFEST_INVALID');
  });
});
