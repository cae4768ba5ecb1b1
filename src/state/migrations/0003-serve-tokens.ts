import type { Kysely } from 'kysely';

/**
 * The named tokens of `uplift serve` (docs/api.md): one row per name, holding the sha256 of the
 * token, never the token itself. A revoked token keeps its row (revoked_at set) so that the audit's
 * actor names stay explained and a name is not silently reused.
 */
export function serveTokens() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('serve_tokens')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
    },
  };
}
