import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReleaseTree } from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { type BuildOptions, buildPack, inspectPack, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);

function trees() {
  const d = mkdtempSync(join(tmpdir(), 'uplift-pack-'));
  const a = writeReleaseTree(join(d, 'a'), '5.4 GA', {
    version: '5.4 GA\n',
    'bin/start_all': { body: '#!/bin/sh\necho start\n', mode: 0o755 },
    'lib/server.js': 'console.log("5.4")\n',
    'lib/same.js': 'same\n',
    'conf/old.conf': 'gone in 5.4 Patch 2\n',
  });
  const b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', {
    version: '5.4 Patch 2\n',
    'bin/start_all': { body: '#!/bin/sh\necho start\n', mode: 0o755 },
    'lib/server.js': 'console.log("5.4 Patch 2")\n',
    'lib/same.js': 'same\n',
    'lib/new/deep/module.js': 'export {}\n',
  });
  return { d, a, b };
}

type Trees = ReturnType<typeof trees>;

/** buildPack from tree a to tree b for linux-x86-64, signed with the test key, into `d/<out>`. */
function build(t: Trees, out: string, more: Partial<BuildOptions> = {}) {
  return buildPack({
    fromTree: t.a,
    toTree: t.b,
    platform: 'linux-x86-64',
    key: key.privateKey,
    out: join(t.d, out),
    ...more,
  });
}

describe('buildPack and verifyPack', () => {
  it('builds a delta with only what changed, verifies it and stages exactly those files', async () => {
    const t = trees();

    const built = await build(t, 'p.upk', { delta: true, fileSha256: true });
    const r = await verifyPack(built.file, {
      trust,
      stageInto: join(t.d, 'stage'),
      install: { product: 'skiff', version: '5.4 GA', platform: 'linux-x86-64' },
    });

    expect(built.manifest.files.map((f) => [f.path, f.action])).toEqual([
      ['conf/old.conf', 'delete'],
      ['lib/new/deep/module.js', 'add'],
      ['lib/server.js', 'replace'],
      ['version', 'replace'],
    ]);
    expect(built.manifest.from).toEqual({ range: '5.4 GA', version: '5.4 GA' });
    expect(built.manifest.created).toBe('2024-06-01T00:00:00.000Z');
    expect(r.keyid).toBe(key.publicKey.keyid);
    expect(r.sha256).toBe(built.sha256);
    expect(r.bytes).toBe(statSync(built.file).size);
    expect(statSync(join(t.d, 'stage')).mode & 0o777).toBe(0o700);
    const staged = await hashTree(join(t.d, 'stage'), { owners: false });
    expect(staged.records.filter((x) => x.type === 'file').map((x) => x.path)).toEqual([
      'lib/new/deep/module.js',
      'lib/server.js',
      'version',
    ]);
    expect(readFileSync(join(t.d, 'stage/lib/server.js'), 'utf8')).toBe(
      'console.log("5.4 Patch 2")\n',
    );
  });

  it('builds a full pack with every file of the to tree and its modes', async () => {
    const t = trees();

    const built = await build(t, 'full.upk', { platform: 'linux-arm64' });
    await verifyPack(built.file, { trust, stageInto: join(t.d, 'stage') });

    expect(built.manifest.kind).toBe('full');
    expect(built.manifest.from.range).toBe('>=5.4 GA, <5.4 Patch 2');
    expect(built.manifest.payload.entries).toBe(5);
    const tree = await hashTree(join(t.b, 'tree'), { owners: false });
    const staged = await hashTree(join(t.d, 'stage'), { owners: false });
    const files = (h: typeof tree) => h.records.filter((x) => x.type === 'file');
    expect(files(staged)).toEqual(files(tree));
  });

  it("reads a full pack's from tree for its manifest only: the tree itself may be gone; a delta needs it", async () => {
    const t = trees();
    const whole = await build(t, 'with-tree.upk');
    rmSync(join(t.a, 'tree'), { recursive: true });

    const built = await build(t, 'manifest-only.upk');

    // The from tree's bytes never enter a full pack: the same pack, byte for byte.
    expect(readFileSync(built.file)).toEqual(readFileSync(whole.file));
    expect(built.manifest.files.find((f) => f.path === 'conf/old.conf')?.action).toBe('delete');
    await expect(build(t, 'delta.upk', { delta: true })).rejects.toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
    });
  });

  it('is deterministic: the same inputs give byte-identical packs', async () => {
    const t = trees();

    const one = await build(t, '1.upk', { delta: true, fileSha256: true });
    const two = await build(t, '2.upk', { delta: true });

    expect(readFileSync(two.file).equals(readFileSync(one.file))).toBe(true);
    // The whole file's SHA-256 is one more hash of every byte: only when asked for.
    expect(one.sha256).toBe(createHash('sha256').update(readFileSync(one.file)).digest('hex'));
    expect(two.sha256).toBeUndefined();
  });

  it('inspects header, manifest and signer without trust', async () => {
    const t = trees();
    const built = await build(t, 'p.upk');

    const i = await inspectPack(built.file);

    expect(i).toMatchObject({
      keyid: key.publicKey.keyid,
      signature: 'not-checked',
      bytes: built.bytes,
      sizeMatches: true,
    });
    expect(i.manifest).toEqual(built.manifest);
  });

  it('carries migration and hook scripts under .uplift-pack/ and stages them', async () => {
    const t = trees();
    mkdirSync(join(t.d, 'm/db'), { recursive: true });
    writeFileSync(join(t.d, 'm/db/1.sql'), 'select 1;\n');
    writeFileSync(join(t.d, 'm/hook.sh'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(
      join(t.d, 'm/migrations.yaml'),
      'migrations: 1\ndatabase:\n  - { id: one, engine: sqlite, database: var/db/x.db, script: db/1.sql }\nhooks:\n  - { id: warm, phase: after-start, run: sh, script: hook.sh }\n',
    );

    const built = await build(t, 'p.upk', {
      delta: true,
      migrations: join(t.d, 'm/migrations.yaml'),
    });
    const r = await verifyPack(built.file, { trust, stageInto: join(t.d, 'stage') });

    expect(r.manifest.migrations.database[0]?.script).toMatchObject({
      path: '.uplift-pack/db/1.sql',
      mode: 0o644,
      size: 10,
    });
    expect(r.manifest.hooks[0]).toMatchObject({
      phase: 'after-start',
      timeoutSeconds: 300,
      script: { path: '.uplift-pack/hook.sh', mode: 0o755 },
    });
    expect(readFileSync(join(t.d, 'stage/.uplift-pack/db/1.sql'), 'utf8')).toBe('select 1;\n');
    expect(r.manifest.payload.entries).toBe(5);
  });

  it.each([
    [
      'an unknown field',
      'migrations: 1\nconfig:\n  - id: x\n    run: node\n    script: a.mjs\n    colour: red\n',
      6,
    ],
    [
      'a script outside its folder',
      'migrations: 1\ndatabase:\n  - { id: x, engine: sqlite, database: d.db, script: ../../etc/passwd }\n',
      undefined,
    ],
  ])('refuses a migrations file with %s, naming where', async (_n, yaml, line) => {
    const t = trees();
    writeFileSync(join(t.d, 'migrations.yaml'), yaml);

    const err = await build(t, 'p.upk', { migrations: join(t.d, 'migrations.yaml') }).catch(
      (e: unknown) => e,
    );

    expect(err).toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
      location: { file: join(t.d, 'migrations.yaml') },
    });
    if (line) expect(err).toMatchObject({ location: { line } });
  });

  it('packs a file larger than one read (4 MiB) in pieces, and refuses it when its bytes differ', async () => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-pack-big-'));
    const big = Buffer.alloc((9 << 20) + 7, 'log line\n');
    const a = writeReleaseTree(join(d, 'a'), '5.4 GA', { version: '5.4 GA\n' });
    const b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', {
      version: '5.4 Patch 2\n',
      'lib/big.log': big,
    });
    const o = { fromTree: a, toTree: b, platform: 'linux-x86-64', key: key.privateKey };

    await buildPack({ ...o, out: join(d, 'p.upk') });
    await verifyPack(join(d, 'p.upk'), { trust, stageInto: join(d, 's') });
    expect(readFileSync(join(d, 's/lib/big.log')).equals(big)).toBe(true);

    big[big.length - 2] = 0x58;
    writeFileSync(join(b, 'tree/lib/big.log'), big);
    await expect(buildPack({ ...o, out: join(d, 'q.upk') })).rejects.toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
      location: { file: join(b, 'tree/lib/big.log') },
    });
    expect(readdirSync(d).sort()).toEqual(['a', 'b', 'p.upk', 's']);
  });

  describe('should error with a code and not write if --out', () => {
    /** A tmpfs of its own at `d/<name>` (needs root, as CI runs); false where it cannot be made. */
    const mountAt = (t: Trees, name: string, options: string) => {
      const dir = join(t.d, name);
      mkdirSync(dir);
      return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0;
    };

    it('is an existing folder', async () => {
      const t = trees();
      mkdirSync(join(t.d, 'p.upk'));

      await expect(build(t, 'p.upk')).rejects.toMatchObject({ code: 'UPLIFT_PATH_UNWRITABLE' });
      expect(readdirSync(join(t.d, 'p.upk'))).toEqual([]);
      expect(readdirSync(t.d).sort()).toEqual(['a', 'b', 'p.upk']);
    });

    it('is on a read-only filesystem', async (ctx) => {
      const t = trees();
      if (!mountAt(t, 'ro', 'ro,size=1m')) ctx.skip();
      try {
        await expect(build(t, 'ro/p.upk')).rejects.toMatchObject({
          code: 'UPLIFT_PATH_UNWRITABLE',
        });
      } finally {
        spawnSync('umount', [join(t.d, 'ro')]);
      }
    });

    it('is on a full disk, leaving nothing there', async (ctx) => {
      const t = trees();
      if (!mountAt(t, 'full', 'size=64k')) ctx.skip();
      try {
        spawnSync('sh', ['-c', `cat /dev/zero > ${join(t.d, 'full/filler')}`]);

        await expect(build(t, 'full/p.upk')).rejects.toMatchObject({ code: 'UPLIFT_NO_SPACE' });
        expect(readdirSync(join(t.d, 'full'))).toEqual(['filler']);
      } finally {
        spawnSync('umount', [join(t.d, 'full')]);
      }
    });
  });

  describe('should refuse a build input and not write if', () => {
    const sameSize = (file: string) => (t: Trees) => {
      const f = join(t.b, 'tree', file);
      writeFileSync(f, readFileSync(f, 'utf8').toUpperCase());
    };
    it.each([
      [
        'a tree file differs from its manifest',
        (t: Trees) => writeFileSync(join(t.b, 'tree/lib/same.js'), 'changed\n'),
        false,
      ],
      [
        'a tree file is not in its manifest',
        (t: Trees) => writeFileSync(join(t.b, 'tree/extra'), 'x'),
        false,
      ],
      [
        'the to tree is older',
        (t: Trees) => writeReleaseTree(t.b, '5.3.0 GA', { version: 'x' }),
        false,
      ],
      // Packed files are hashed while they are packed (read once); the others by the tree check.
      ['a packed file has other bytes of the same size (full)', sameSize('lib/server.js'), false],
      ['a packed file has other bytes of the same size (delta)', sameSize('lib/server.js'), true],
      [
        'a file left out of a delta has other bytes of the same size',
        sameSize('lib/same.js'),
        true,
      ],
      // Packed files are never stat'ed by path: the fstat of the file opened to pack it decides.
      [
        'a packed file has another mode',
        (t: Trees) => chmodSync(join(t.b, 'tree/lib/server.js'), 0o700),
        false,
      ],
      [
        'a packed file is longer than its manifest says',
        (t: Trees) => appendFileSync(join(t.b, 'tree/lib/server.js'), 'more\n'),
        true,
      ],
      [
        'a packed file is a symbolic link to a file of the listed bytes',
        (t: Trees) => {
          const f = join(t.b, 'tree/lib/server.js');
          writeFileSync(join(t.d, 'outside.js'), readFileSync(f));
          rmSync(f);
          symlinkSync(join(t.d, 'outside.js'), f);
        },
        false,
        ['a', 'b', 'outside.js'],
      ],
    ])('%s', async (_name, damage, delta, left = ['a', 'b']) => {
      const t = trees();
      damage(t);

      const err = await build(t, 'p.upk', { delta }).catch((e: unknown) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_PACK_BUILD_INPUT' });
      expect((err as Error).message).toContain(t.b);
      expect(readdirSync(t.d).sort()).toEqual(left);
    });
  });
});
