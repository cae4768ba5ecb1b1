import type { Kysely } from 'kysely';
import type { StoreKind } from './kind.ts';

/**
 * Each node's pre-upgrade checks as `uplift check --env` ran them (the last check `uplift fleet`
 * shows): one row per node and run of the command, keyed by environment, since deployments of
 * different environments may share a name.
 */
export function nodeChecks(kind: StoreKind) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('node_checks')
        .addColumn('id', kind === 'postgres' ? 'serial' : 'integer', (c) =>
          kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('node_checks_node')
        .on('node_checks')
        .columns(['env', 'deployment', 'node'])
        .execute();
    },
  };
}
