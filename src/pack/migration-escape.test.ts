import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationScene, migrationSql, tablesOf } from '../../test/util/migration-scene.ts';
import { craftPack } from '../../test/util/pack-assemble.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { buildPack, type PackManifest, verifyPack } from './index.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);

/** A signed pack whose one database migration names `database` (crafted: build refuses it). */
function crafted(database: string): Promise<Buffer> {
  const script = { name: '.uplift-pack/db/1.sql', body: migrationSql };
  return craftPack({
    key: key.privateKey,
    entries: [script],
    files: [],
    edit: (m: PackManifest) => {
      const size = Buffer.byteLength(migrationSql);
      m.migrations.database = [
        {
          id: 'one',
          engine: 'sqlite',
          database,
          run: 'sql',
          script: { path: script.name, size, mode: 0o644, sha256: sha256(migrationSql) },
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
    const s = migrationScene('uplift-mig-escape-');

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
    expect(tablesOf(join(s.d, 'outside.db'))).toEqual([]);
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
    const s = migrationScene('uplift-mig-escape-');
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
    const s = migrationScene('uplift-mig-escape-');

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
