import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { writeReleaseTree } from './pack-assemble.ts';

/** The SQL of the one database migration: it leaves a table named `pwned` where it ran. */
export const migrationSql = 'CREATE TABLE pwned (x INTEGER);\n';

/**
 * An installation at `d/top/install` with its database at `var/db/app.db`, and a database the
 * installation must never touch at `d/outside.db` (`../../outside.db` from the installation climbs
 * from `d/top/install` to `d`); two release trees `a` → `b`, and `migrations(database)` writes a
 * migrations.yaml whose one SQLite migration names `database`.
 */
export function migrationScene(prefix: string) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  const install = join(d, 'top/install');
  mkdirSync(join(install, 'var/db'), { recursive: true });
  new Database(join(install, 'var/db/app.db')).close();
  new Database(join(d, 'outside.db')).close();
  const a = writeReleaseTree(join(d, 'a'), '5.4 GA', { version: '5.4 GA\n' });
  const b = writeReleaseTree(join(d, 'b'), '5.4 Patch 2', { version: '5.4 Patch 2\n' });
  mkdirSync(join(d, 'm/db'), { recursive: true });
  writeFileSync(join(d, 'm/db/1.sql'), migrationSql);
  const migrations = (database: string) => {
    writeFileSync(
      join(d, 'm/migrations.yaml'),
      `migrations: 1\ndatabase:\n  - { id: one, engine: sqlite, database: ${JSON.stringify(database)}, script: db/1.sql }\n`,
    );
    return join(d, 'm/migrations.yaml');
  };
  return { d, install, a, b, migrations };
}

/** The tables of a SQLite database file. */
export function tablesOf(file: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  } finally {
    db.close();
  }
}
