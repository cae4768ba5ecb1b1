import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { craftPack, writeReleaseTree } from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { buildPack, type PackManifest, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);
const sql = 'CREATE TABLE pwned (x INTEGER);\n';

/**
 * An installation at `d/top/install` with its database at `var/db/app.db`, and a database the
 * installation must never touch at `d/outside.db` (`../../outside.db` from `var/db`… and from the
 * installation: `../../outside.db` climbs from `d/top/install` to `d`).
 */
function scene() {
  const d = mkdtempSync(join(tmpdir(), 'uplift-mig-escape-'));
  const install = join(d, 'top/install');
  mkdirSync(join(install, 'var/db'), { recursive: true });
  new Database(join(install, 'var/db/app.db')).close();
  new Database(join(d, 'outside.db')).close();
  const a = writeReleaseTree(join(d, 'a'), '5.4 GA', { version: '5.4 GA\n' });
  const b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', { version: '5.4 Patch 2\n' });
  mkdirSync(join(d, 'm/db'), { recursive: true });
  writeFileSync(join(d, 'm/db/1.sql'), sql);
  const migrations = (database: string) => {
    writeFileSync(
      join(d, 'm/migrations.yaml'),
      `migrations: 1\ndatabase:\n  - { id: one, engine: sqlite, database: ${JSON.stringify(database)}, script: db/1.sql }\n`,
    );
    return join(d, 'm/migrations.yaml');
  };
  return { d, install, a, b, migrations };
}

const tables = (file: string) =>
  (() => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    } finally {
      db.close();
    }
  })();

/** A signed pack whose one database migration names `database` (crafted: build refuses it). */
function crafted(database: string): Promise<Buffer> {
  const script = { name: '.uplift-pack/db/1.sql', body: sql };
  return craftPack({
    key: key.privateKey,
    entries: [script],
    files: [],
    edit: (m: PackManifest) => {
      const size = Buffer.byteLength(sql);
      m.migrations.database = [
        {
          id: 'one',
          engine: 'sqlite',
          database,
          run: 'sql',
          script: { path: script.name, size, mode: 0o644, sha256: sha256(sql) },
        },
      ];
      m.space = { stage: size, growth: 0 };
      m.payload.entries = 1;
    },
  });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('a migration that names a database outside the installation', () => {
  it('is refused by build, naming the field and the path, and nothing is written', async () => {
    const s = scene();

    const building = buildPack({
      fromTree: s.a,
      toTree: s.b,
      platform: 'linux-x86-64',
      delta: true,
      key: key.privateKey,
      out: join(s.d, 'p.upk'),
      migrations: s.migrations('../../outside.db'),
    });

    await expect(building).rejects.toMatchObject({
      code: 'UPLIFT_PACK_MIGRATION_PATH',
      exitCode: 2,
      location: { path: 'database[0].database' },
    });
    expect(((await building.catch((e) => e)) as Error).message).toContain('../../outside.db');
    expect(existsSync(join(s.d, 'p.upk'))).toBe(false);
    expect(tables(join(s.d, 'outside.db'))).toEqual([]);
  });

  it.each([
    ['../../outside.db'],
    ['var/../../../outside.db'],
    ['/tmp/outside.db'],
    ['var\\db\\app.db'],
    ['C:/db/app.db'],
    ['var//db/app.db'],
    ['./var/db/app.db'],
    ['.uplift-pack/db/1.sql'],
  ])('a signed pack naming %j is refused by verify with the path named', async (database) => {
    const s = scene();
    writeFileSync(join(s.d, 'p.upk'), await crafted(database));
    const before = await hashTree(s.d);

    const verifying = verifyPack(join(s.d, 'p.upk'), { trust, stageInto: join(s.d, 'stage') });

    await expect(verifying).rejects.toMatchObject({
      code: 'UPLIFT_PACK_MIGRATION_PATH',
      unchanged: true,
      location: { path: 'migrations.database[0].database' },
    });
    expect(((await verifying.catch((e) => e)) as Error).message).toContain(
      JSON.stringify(database),
    );
    expect(existsSync(join(s.d, 'stage'))).toBe(false);
    expect((await hashTree(s.d)).hash).toBe(before.hash);
  });

  it('build with a profile refuses a database outside its data paths', async () => {
    const s = scene();

    const building = buildPack({
      fromTree: s.a,
      toTree: s.b,
      platform: 'linux-x86-64',
      delta: true,
      key: key.privateKey,
      out: join(s.d, 'p.upk'),
      migrations: s.migrations('lib/app.db'),
      dataGlobs: ['data/**', 'var/db/*.db'],
    });

    await expect(building).rejects.toMatchObject({ code: 'UPLIFT_PACK_MIGRATION_PATH' });
    expect(readdirSync(s.d).sort()).toEqual(['a', 'b', 'm', 'outside.db', 'top']);
  });
});
