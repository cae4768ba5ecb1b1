import { type Kysely, sql } from 'kysely';
import type { StoreKind } from './kind.ts';

/**
 * The first schema: runs, the plans deployments ran, node states, step timings, facts snapshots,
 * the audit log and claims. The audit log refuses UPDATE and DELETE by trigger on both databases,
 * so even hand-written SQL cannot rewrite history; the store itself has no such code path.
 */
export function initial(kind: StoreKind) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('deployments', 'text', (c) => c.notNull())
        .addColumn('topology_digest', 'text', (c) => c.notNull())
        .addColumn('controller', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('dry_run', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('runs_env').on('runs').columns(['env', 'started_at']).execute();

      await db.schema
        .createTable('deployment_plans')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('plan_key', 'text', (c) => c.notNull())
        .addColumn('key_digest', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_plans_pk', ['run_id', 'deployment'])
        .execute();
      await db.schema
        .createIndex('deployment_plans_env')
        .on('deployment_plans')
        .columns(['env', 'outcome', 'key_digest'])
        .execute();

      await db.schema
        .createTable('node_states')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('from_version', 'text')
        .addColumn('to_version', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('node_states_pk', ['run_id', 'deployment', 'node'])
        .execute();

      // An auto-numbered key is the one thing the two databases spell differently.
      const serial = (t: string) =>
        db.schema
          .createTable(t)
          .addColumn('id', kind === 'postgres' ? 'serial' : 'integer', (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          );

      await serial('step_timings')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('seconds', 'double precision', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('step_timings_run').on('step_timings').column('run_id').execute();

      await serial('facts_snapshots')
        .addColumn('run_id', 'text')
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('facts', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('facts_snapshots_node')
        .on('facts_snapshots')
        .columns(['deployment', 'node'])
        .execute();

      await serial('audit')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('controller', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('env', 'text')
        .addColumn('deployment', 'text')
        .addColumn('node', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_run').on('audit').column('run_id').execute();
      await db.schema.createIndex('audit_env').on('audit').columns(['env', 'at']).execute();

      await db.schema
        .createTable('claims')
        .addColumn('deployment_key', 'text', (c) => c.primaryKey())
        .addColumn('controller', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .execute();

      if (kind === 'postgres') {
        await sql`CREATE FUNCTION uplift_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
          FOR EACH ROW EXECUTE FUNCTION uplift_audit_append_only()`.execute(db);
        await sql`CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
          FOR EACH STATEMENT EXECUTE FUNCTION uplift_audit_append_only()`.execute(db);
      } else {
        await sql`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END`.execute(
          db,
        );
        await sql`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END`.execute(
          db,
        );
      }
    },
  };
}
