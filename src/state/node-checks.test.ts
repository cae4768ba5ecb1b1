import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { openStateStore } from './index.ts';
import { initial } from './migrations/0001-initial.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-node-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('brings a store of the first schema up to node checks, keeping what it held', async () => {
  const file = join(dir, 'state.db');
  const old = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
  const migrator = new Migrator({
    db: old,
    provider: { getMigrations: async () => ({ '0001-initial': initial('sqlite') }) },
    migrationTableName: 'uplift_migration',
    migrationLockTableName: 'uplift_migration_lock',
  });
  expect((await migrator.migrateToLatest()).error).toBeUndefined();
  await old.destroy();
  const raw = new Database(file);
  raw
    .prepare(
      "INSERT INTO audit (at, actor, controller, action, outcome) VALUES ('2025-01-01T00:00:00.000Z', 'op@host', 'c', 'rollout.start', 'ok')",
    )
    .run();
  raw.close();

  const store = await openStateStore({ file, env: {} });
  await store.recordCheck({
    env: 'e',
    deployment: 'd',
    node: 'n',
    status: 'warn',
    pass: 8,
    warn: 1,
    fail: 0,
    failed: [],
  });
  const last = await store.lastCheck('e', 'd', 'n');
  const audit = await store.listAudit();
  await store.close();

  expect(last).toMatchObject({ status: 'warn', pass: 8, warn: 1, fail: 0, failed: [] });
  expect(audit.map((a) => a.action)).toEqual(['rollout.start']);
});
