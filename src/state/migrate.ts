import { type Kysely, type MigrationProvider, Migrator, sql } from 'kysely';
import { UpliftError } from '../errors/index.ts';
import { migrations, type StoreKind } from './migrations/index.ts';

/** kysely's bookkeeping tables, named for uplift so they stand out in a shared database. */
const migrationTableName = 'uplift_migration';
const migrationLockTableName = 'uplift_migration_lock';

/**
 * Brings the database to this uplift's schema, on every open: a no-op when it is current. A
 * database that an uplift newer than this one migrated is refused, never written: its tables may
 * mean something this version does not know.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  kind: StoreKind,
  label: string,
): Promise<void> {
  const known = migrations(kind);
  const applied = await appliedMigrations(db);
  const unknown = applied.filter((name) => !(name in known));
  if (unknown.length > 0)
    throw new UpliftError(
      'UPLIFT_STATE_TOO_NEW',
      `the state store ${label} was migrated by a newer uplift (migration ${unknown.join(', ')} is unknown to this version)`,
      {
        hint: 'run a newer uplift against this state store, or point this one at another one (UPLIFT_DATABASE_URL or --state)',
        unchanged: true,
      },
    );

  const provider: MigrationProvider = { getMigrations: async () => known };
  const migrator = new Migrator({ db, provider, migrationTableName, migrationLockTableName });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw Object.assign(error instanceof Error ? error : new Error(String(error)), {
      migrationName: failed,
    });
  }
}

async function appliedMigrations(db: Kysely<unknown>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === migrationTableName)) return [];
  const rows = await sql<{
    name: string;
  }>`SELECT name FROM ${sql.table(migrationTableName)}`.execute(db);
  return rows.rows.map((r) => r.name);
}
