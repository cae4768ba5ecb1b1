import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrationScene, migrationSql, tablesOf } from '../../test/util/migration-scene.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { buildPack, type PackManifest, verifyPack } from '../pack/index.ts';
import { generateKeyPair, trustOf } from '../signing/index.ts';
import { checkMigrationTargets, runMigrations } from './migrate.ts';

const key = generateKeyPair();
const trust = trustOf([key.publicKey]);

describe('database migrations stay inside the installation', () => {
  it('a database inside the data paths builds, verifies and migrates (the baseline)', async () => {
    const s = migrationScene('uplift-mig-apply-');
    const built = await buildPack({
      fromTree: s.a,
      toTree: s.b,
      platform: 'linux-x86-64',
      delta: true,
      key: key.privateKey,
      out: join(s.d, 'p.upk'),
      migrations: s.migrations('var/db/app.db'),
      dataGlobs: ['var/db/*.db'],
    });
    const v = await verifyPack(built.file, {
      trust,
      stageInto: join(s.d, 'stage'),
      dataGlobs: ['var/db/*.db'],
    });
    const report = { database: [], config: [], hooks: [] };

    await checkMigrationTargets(s.install, v.manifest, ['var/db/*.db']);
    await runMigrations(s.install, s.install, join(s.d, 'stage'), v.manifest, report, [
      'var/db/*.db',
    ]);

    expect(tablesOf(join(s.install, 'var/db/app.db'))).toEqual([{ name: 'pwned' }]);
    expect(tablesOf(join(s.d, 'outside.db'))).toEqual([]);
  });

  it('refuses ../../outside.db at apply, before anything changes, and the migration itself never writes it', async () => {
    const s = migrationScene('uplift-mig-apply-');
    const stage = join(s.d, 'stage');
    mkdirSync(join(stage, '.uplift-pack/db'), { recursive: true });
    writeFileSync(join(stage, '.uplift-pack/db/1.sql'), migrationSql);
    const m = {
      migrations: {
        config: [],
        database: [
          { id: 'one', database: '../../outside.db', script: { path: '.uplift-pack/db/1.sql' } },
        ],
      },
    } as unknown as PackManifest;
    const report = { database: [], config: [], hooks: [] };

    await expect(checkMigrationTargets(s.install, m, ['var/db/*.db'])).rejects.toMatchObject({
      code: 'UPLIFT_PACK_MIGRATION_PATH',
      exitCode: 3,
      unchanged: true,
    });
    await expect(
      runMigrations(s.install, s.install, stage, m, report, ['var/db/*.db']),
    ).rejects.toMatchObject({ code: 'UPLIFT_APPLY_MIGRATION_FAILED' });
    expect(tablesOf(join(s.d, 'outside.db'))).toEqual([]);
  });

  describe('after symbolic links', () => {
    it('refuses, before anything changes, a database whose folder links out of the installation without being declared data', async () => {
      const s = migrationScene('uplift-mig-apply-');
      // The file matches the data glob; the folder on its way is a link the profile does not declare.
      symlinkSync(s.d, join(s.install, 'shared'));
      const m = { migrations: { database: [{ id: 'one', database: 'shared/outside.db' }] } };
      const before = await hashTree(s.d);

      const checking = checkMigrationTargets(s.install, m as unknown as PackManifest, [
        'shared/*.db',
      ]);

      await expect(checking).rejects.toMatchObject({
        code: 'UPLIFT_PACK_MIGRATION_PATH',
        exitCode: 3,
        unchanged: true,
      });
      expect((await hashTree(s.d)).hash).toBe(before.hash);
      expect(tablesOf(join(s.d, 'outside.db'))).toEqual([]);
    });

    it('accepts a database behind a link the profile declares as data (a database folder on another disk)', async () => {
      const s = migrationScene('uplift-mig-apply-');
      const disk = join(s.d, 'disk2');
      mkdirSync(disk);
      new Database(join(disk, 'app.db')).close();
      symlinkSync(disk, join(s.install, 'dbs'));
      const m = { migrations: { database: [{ id: 'one', database: 'dbs/app.db' }] } };

      await expect(
        checkMigrationTargets(s.install, m as unknown as PackManifest, ['dbs/**']),
      ).resolves.toBeUndefined();
      await expect(
        checkMigrationTargets(s.install, m as unknown as PackManifest, ['dbs/*.db']),
      ).rejects.toMatchObject({ code: 'UPLIFT_PACK_MIGRATION_PATH' });
    });
  });
});
