import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair, type KeyPair } from '../signing/index.ts';
import {
  addToRepository,
  encodeEnvelope,
  initRepository,
  type MetadataReader,
  parseExpiry,
  publishIndex,
  type RotateOptions,
  refreshRepository,
  rotateRoot,
  signMetadata,
} from './index.ts';

const t0 = new Date('2030-01-01T00:00:00Z');
const days = (n: number) => new Date(t0.getTime() + n * 86_400_000);

let tmp: string;
let repo: string;
let stateDir: string;
let rootA: KeyPair;
let rootB: KeyPair;
let rootC: KeyPair;
let indexKey: KeyPair;
let packKey: KeyPair;

function dirReader(dir: string): MetadataReader {
  return {
    name: dir,
    read: (p) =>
      readFile(join(dir, p)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      }),
  };
}

async function refresh(now = t0, extra: { initial?: boolean } = { initial: true }) {
  return refreshRepository({
    reader: dirReader(repo),
    stateDir,
    now,
    initialRoot: extra.initial
      ? { raw: await readFile(join(repo, '1.root.json')), file: '1.root.json' }
      : undefined,
  });
}

async function publish(now = t0, expiresDays = 7, keys = [indexKey.privateKey]) {
  return publishIndex({
    dir: repo,
    indexKeys: keys,
    expires: new Date(now.getTime() + expiresDays * 86_400_000),
  });
}

/** A root rotation by the two root keys that keeps the root keys (plus whatever `change` says). */
function rotateKeepingKeys(change: Partial<RotateOptions> = {}) {
  return rotateRoot({
    dir: repo,
    signers: [rootA.privateKey, rootB.privateKey],
    addRootKeys: [],
    removeRootKeys: [],
    expires: days(365),
    ...change,
  });
}

async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    h.update(name);
    h.update(await readFile(join(dir, name)).catch(() => Buffer.from('dir')));
  }
  return h.digest('hex');
}

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'uplift-repo-'));
  repo = join(tmp, 'repo');
  stateDir = join(tmp, 'state');
  [rootA, rootB, rootC, indexKey, packKey] = [1, 2, 3, 4, 5].map(() => generateKeyPair()) as [
    KeyPair,
    KeyPair,
    KeyPair,
    KeyPair,
    KeyPair,
  ];
  await initRepository({
    dir: repo,
    rootKeys: [rootA.privateKey, rootB.privateKey],
    threshold: 2,
    indexKeys: [indexKey.privateKey],
    indexThreshold: 1,
    packKeys: [packKey.publicKey],
    rootExpires: days(365),
    indexExpires: days(7),
  });
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('publisher', () => {
  it('init writes root version 1 twice and an empty signed index version 1', async () => {
    const root = JSON.parse(await readFile(join(repo, 'root.json'), 'utf8'));
    const index = JSON.parse(await readFile(join(repo, 'index.json'), 'utf8'));

    expect(await readFile(join(repo, '1.root.json'), 'utf8')).toBe(
      await readFile(join(repo, 'root.json'), 'utf8'),
    );
    expect(root.signed.roles.root).toEqual({
      keyids: [rootA.publicKey.keyid, rootB.publicKey.keyid],
      threshold: 2,
    });
    expect(root.signatures).toHaveLength(2);
    expect(index.signed).toMatchObject({ type: 'index', version: 1, catalogs: [], packs: [] });
  });

  it('add and publish list every file with its size, hash and attributes, version + 1', async () => {
    const pack = join(tmp, 'SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip');
    await writeFile(pack, 'pack bytes');
    const catalog = join(tmp, 'skiff.yaml');
    await writeFile(catalog, 'catalog: 1\nproduct: skiff\n');

    await addToRepository({
      dir: repo,
      files: [pack],
      catalog: false,
      attributes: { platform: 'linux-x86-64' },
    });
    await addToRepository({ dir: repo, files: [catalog], catalog: true, attributes: {} });
    const r = await publish();

    expect(r.version).toBe(2);
    expect(r.packs).toEqual([
      {
        path: 'packs/SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip',
        size: 10,
        sha256: createHash('sha256').update('pack bytes').digest('hex'),
        platform: 'linux-x86-64',
      },
    ]);
    expect(r.catalogs).toEqual([
      expect.objectContaining({ path: 'catalogs/skiff.yaml', product: 'skiff' }),
    ]);
    expect((await refresh()).index.signed.packs).toEqual(r.packs);
  });

  describe('should error and not write if', () => {
    it('init runs on an existing repository', async () => {
      const before = await treeHash(repo);

      await expect(
        initRepository({
          dir: repo,
          rootKeys: [rootC.privateKey],
          threshold: 1,
          indexKeys: [indexKey.publicKey],
          indexThreshold: 1,
          packKeys: [packKey.publicKey],
          rootExpires: days(1),
          indexExpires: days(1),
        }),
      ).rejects.toMatchObject({ code: 'UPLIFT_REPO_EXISTS' });
      expect(await treeHash(repo)).toBe(before);
    });

    it('init is given a folder on a read-only filesystem', async (ctx) => {
      const ro = join(tmp, 'ro');
      await mkdir(ro);
      if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]).status !== 0)
        ctx.skip();
      try {
        await expect(
          initRepository({
            dir: join(ro, 'repo'),
            rootKeys: [rootA.privateKey],
            threshold: 1,
            indexKeys: [indexKey.privateKey],
            indexThreshold: 1,
            packKeys: [packKey.publicKey],
            rootExpires: days(365),
            indexExpires: days(7),
          }),
        ).rejects.toMatchObject({ code: 'UPLIFT_PATH_UNWRITABLE', exitCode: 2 });
      } finally {
        spawnSync('umount', [ro]);
      }
    });

    it('add is given a file that does not exist', async () => {
      const before = await treeHash(repo);

      const err = await addToRepository({
        dir: repo,
        files: [join(tmp, 'missing.upk')],
        catalog: false,
        attributes: {},
      }).catch((e: unknown) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_FILE_NOT_FOUND' });
      expect((err as Error).message).toContain('does not exist');
      expect(await treeHash(repo)).toBe(before);
    });

    it('add meets other bytes under a name already there', async () => {
      const pack = join(tmp, 'a.zip');
      await writeFile(pack, 'one');
      await addToRepository({ dir: repo, files: [pack], catalog: false, attributes: {} });
      await writeFile(pack, 'two');
      const before = await treeHash(repo);

      await expect(
        addToRepository({ dir: repo, files: [pack], catalog: false, attributes: {} }),
      ).rejects.toMatchObject({ code: 'UPLIFT_REPO_EXISTS' });
      expect(await treeHash(repo)).toBe(before);
    });

    it('publish signs with a key that is not an index key', async () => {
      const before = await treeHash(repo);

      await expect(publish(t0, 7, [packKey.privateKey])).rejects.toMatchObject({
        code: 'UPLIFT_REPO_NOT_TRUSTED',
      });
      expect(await treeHash(repo)).toBe(before);
    });

    it('rotate is signed by fewer old root keys than the threshold', async () => {
      const before = await treeHash(repo);

      await expect(
        rotateRoot({
          dir: repo,
          signers: [rootA.privateKey, rootC.privateKey],
          addRootKeys: [rootC.publicKey],
          removeRootKeys: [rootB.publicKey.keyid],
          expires: days(365),
        }),
      ).rejects.toMatchObject({ code: 'UPLIFT_REPO_SIGNATURE_THRESHOLD' });
      expect(await treeHash(repo)).toBe(before);
    });
  });
});

describe('--expires', () => {
  it.each([
    ['2000-01-01T00:00:00Z', /not after now/],
    ['0s', /not after now/],
    ['2030-01-01T00:00:00Z', /not after now/],
    ['99999999d', /too far ahead/],
    ['9999999999999999999d', /too far ahead/],
    ['soon', /not a duration/],
  ])(
    'refuses %s as a usage error (metadata already expired locks every client out)',
    (value, message) => {
      expect(() => parseExpiry(value, t0)).toThrow(
        expect.objectContaining({
          code: 'UPLIFT_USAGE',
          exitCode: 2,
          message: expect.stringMatching(message),
        }),
      );
    },
  );

  it('takes a duration or a time after now', () => {
    expect(parseExpiry('7d', t0)).toEqual(days(7));
    expect(parseExpiry('2030-01-01T00:00:01Z', t0).getTime()).toBe(t0.getTime() + 1000);
  });
});

describe('client', () => {
  it('needs a root to start from', async () => {
    await expect(refresh(t0, { initial: false })).rejects.toMatchObject({
      code: 'UPLIFT_REPO_NOT_TRUSTED',
    });
  });

  it('takes a newer index, says "unchanged" for the same one, and refuses an older one (replay)', async () => {
    const v1 = await readFile(join(repo, 'index.json'));
    expect((await refresh()).indexStatus).toBe('first');
    await publish();

    const updated = await refresh(t0, {});
    const same = await refresh(t0, {});
    await writeFile(join(repo, 'index.json'), v1);
    const replay = refresh(t0, {});

    expect(updated).toMatchObject({ indexStatus: 'updated', previousIndexVersion: 1 });
    expect(updated.index.signed.version).toBe(2);
    expect(same.indexStatus).toBe('unchanged');
    await expect(replay).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
  });

  it('refuses the same version with other content', async () => {
    await refresh();
    const forged = signMetadata(
      { type: 'index', version: 1, expires: days(7).toISOString(), catalogs: [], packs: [] },
      [indexKey.privateKey],
    );
    await writeFile(join(repo, 'index.json'), forged);

    await expect(refresh(t0, {})).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROLLBACK' });
  });

  it('refuses an expired index and says when fresh metadata was last seen', async () => {
    await refresh(t0);

    const err = await refresh(days(8), {}).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_REPO_EXPIRED' });
    expect((err as Error).message).toMatch(
      /expired at 2030-01-08T00:00:00Z \(24 h ago\).*2030-01-01T00:00:00Z/,
    );
  });

  it('refuses an expired root', async () => {
    await expect(refresh(days(400))).rejects.toMatchObject({ code: 'UPLIFT_REPO_EXPIRED' });
  });

  it('counts each key once and never counts a bad signature (threshold bypass)', async () => {
    const rootFile = join(repo, 'root.json');
    const good = JSON.parse(await readFile(rootFile, 'utf8'));
    const one = good.signatures[0];
    const cases = [
      { ...good, signatures: [one, one] },
      { ...good, signatures: [one, { keyid: good.signatures[1].keyid, sig: one.sig }] },
      { ...good, signatures: [one, { keyid: indexKey.publicKey.keyid, sig: one.sig }] },
      { ...good, signatures: [one, { keyid: 'x', sig: 'y' }] },
    ];

    for (const c of cases) {
      await writeFile(join(tmp, 'bad-root.json'), encodeEnvelope(c));
      await expect(
        refreshRepository({
          reader: dirReader(repo),
          stateDir,
          now: t0,
          initialRoot: { raw: await readFile(join(tmp, 'bad-root.json')), file: 'bad-root.json' },
        }),
      ).rejects.toMatchObject({ code: 'UPLIFT_REPO_SIGNATURE_THRESHOLD' });
    }
  });

  it('refuses an index signed by a root key instead of the index key', async () => {
    await publish(t0, 7);
    const meta = JSON.parse(await readFile(join(repo, 'index.json'), 'utf8'));
    await writeFile(join(repo, 'index.json'), signMetadata(meta.signed, [rootA.privateKey]));

    await expect(refresh()).rejects.toMatchObject({ code: 'UPLIFT_REPO_SIGNATURE_THRESHOLD' });
  });

  it('walks a root rotation with a threshold, and takes an index signed by the new index key', async () => {
    await refresh();
    const newIndex = generateKeyPair();
    await rotateRoot({
      dir: repo,
      signers: [rootA.privateKey, rootB.privateKey, rootC.privateKey],
      addRootKeys: [rootC.publicKey],
      removeRootKeys: [rootB.publicKey.keyid],
      threshold: 2,
      indexKeys: [newIndex.publicKey],
      expires: days(365),
    });
    await publish(t0, 7, [newIndex.privateKey]);

    const r = await refresh(t0, {});

    expect(r.rotations).toEqual([2]);
    expect(r.root.signed.roles.root.keyids).toEqual([rootA.publicKey.keyid, rootC.publicKey.keyid]);
    expect(r.index.signed.version).toBe(2);
  });

  it('recovers from a fast-forward attack through a rotation of the index key', async () => {
    await refresh();
    const stolen = indexKey.privateKey;
    await publishIndex({ dir: repo, indexKeys: [stolen], expires: days(7), version: 99_999 });
    await refresh(t0, {});
    const newIndex = generateKeyPair();
    await rotateKeepingKeys({ indexKeys: [newIndex.publicKey] });
    await publishIndex({
      dir: repo,
      indexKeys: [newIndex.privateKey],
      expires: days(7),
      version: 1,
    });

    const r = await refresh(t0, {});

    expect(r.index.signed.version).toBe(1);
    expect(r.indexStatus).toBe('first');
  });

  it('refuses a new root signed only by its own new keys', async () => {
    await refresh();
    await rotateRoot({
      dir: repo,
      signers: [rootA.privateKey, rootB.privateKey, rootC.privateKey],
      addRootKeys: [rootC.publicKey],
      removeRootKeys: [rootA.publicKey.keyid, rootB.publicKey.keyid],
      threshold: 1,
      expires: days(365),
    });
    const rotated = JSON.parse(await readFile(join(repo, '2.root.json'), 'utf8'));
    const onlyNew = signMetadata(rotated.signed, [rootC.privateKey]);
    await writeFile(join(repo, '2.root.json'), onlyNew);
    await writeFile(join(repo, 'root.json'), onlyNew);

    await expect(refresh(t0, {})).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHAIN' });
  });

  it('refuses a chain with a gap and a file holding the wrong version', async () => {
    await refresh();
    await rotateKeepingKeys();
    await rotateKeepingKeys();
    const v2 = await readFile(join(repo, '2.root.json'));
    const v3 = await readFile(join(repo, '3.root.json'));
    await rm(join(repo, '2.root.json'));

    await expect(refresh(t0, {})).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHAIN' });
    await writeFile(join(repo, '2.root.json'), v3);
    await expect(refresh(t0, {})).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHAIN' });
    await writeFile(join(repo, '2.root.json'), v2);
    expect((await refresh(t0, {})).rotations).toEqual([2, 3]);
  });

  it('stops at the rotation cap', async () => {
    for (let i = 0; i < 4; i++) await rotateKeepingKeys();

    await expect(
      refreshRepository({
        reader: dirReader(repo),
        stateDir,
        now: t0,
        maxRootRotations: 3,
        initialRoot: { raw: await readFile(join(repo, '1.root.json')), file: '1.root.json' },
      }),
    ).rejects.toMatchObject({ code: 'UPLIFT_REPO_ROOT_CHAIN' });
  });

  it('recovers from a torn trusted root and a torn seen record through their previous copies', async () => {
    await refresh();
    await rotateKeepingKeys();
    await publish();
    await refresh(t0, {});
    const dir = stateDir;
    await truncate(join(dir, 'trusted-root.json'), 100);
    await truncate(join(dir, 'seen.json'), 10);

    const r = await refresh(t0, {});

    expect(r.recovered).toHaveLength(2);
    expect(r.root.signed.version).toBe(2);
    expect(r.indexStatus).toBe('updated');
    expect(JSON.parse(await readFile(join(dir, 'trusted-root.json'), 'utf8')).signed.version).toBe(
      2,
    );
  });
});

describe('every byte is covered: metadata has one encoding', () => {
  it.each([
    [
      'whitespace after the first brace',
      (b: Buffer) => Buffer.concat([b.subarray(0, 1), Buffer.from(' '), b.subarray(1)]),
    ],
    ['a second final newline', (b: Buffer) => Buffer.concat([b, Buffer.from('\n')])],
    [
      'a number written as 2.0',
      (b: Buffer) => Buffer.from(b.toString('utf8').replace(/("version":\s*)2\b/, '$12.0')),
    ],
    [
      'an escaped letter',
      (b: Buffer) => Buffer.from(b.toString('utf8').replace('"index"', '"\\u0069ndex"')),
    ],
  ])(
    'refuses an index with %s, naming the file and the first differing byte',
    async (_how, tamper) => {
      await refresh();
      await publish();
      const good = await readFile(join(repo, 'index.json'));
      await writeFile(join(repo, 'index.json'), tamper(good));

      const err = await refresh(t0, {}).catch((e: unknown) => e);

      expect(err).toMatchObject({ code: 'UPLIFT_REPO_NOT_CANONICAL' });
      expect((err as Error).message).toMatch(/index\.json.*offset \d+/);
    },
  );

  it('refuses a padded root rotation file', async () => {
    await refresh();
    await rotateKeepingKeys();
    const raw = await readFile(join(repo, '2.root.json'));
    await writeFile(join(repo, '2.root.json'), Buffer.concat([Buffer.from(' '), raw]));

    const err = await refresh(t0, {}).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_REPO_NOT_CANONICAL' });
    expect((err as Error).message).toMatch(/2\.root\.json.*offset 0/);
  });

  it('publish re-encodes the root files an older uplift pretty-printed, and the stored root of an older client still counts', async () => {
    const pretty = async (file: string) =>
      writeFile(file, `${JSON.stringify(JSON.parse(await readFile(file, 'utf8')), null, 2)}\n`);
    await refresh();
    await pretty(join(repo, 'root.json'));
    await pretty(join(repo, '1.root.json'));
    await pretty(join(stateDir, 'trusted-root.json'));

    const published = await publish();
    const r = await refresh(t0, {});

    expect(published.reencoded).toEqual(['1.root.json', 'root.json']);
    expect(r.recovered).toEqual([]);
    expect(r.index.signed.version).toBe(2);
  });

  it("takes an operator's --root pretty-printed by an older uplift (its signed content is what is trusted)", async () => {
    const file = join(repo, '1.root.json');
    await writeFile(file, `${JSON.stringify(JSON.parse(await readFile(file, 'utf8')), null, 2)}\n`);

    const r = await refresh();

    expect(r.indexStatus).toBe('first');
  });
});
