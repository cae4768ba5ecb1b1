import type { Migration } from 'kysely';
import { initial } from './0001-initial.ts';
import { nodeChecks } from './0002-node-checks.ts';
import { serveTokens } from './0003-serve-tokens.ts';
import type { StoreKind } from './kind.ts';

/**
 * Every migration this uplift knows, in order. Names sort in the order they apply; a migration is
 * never edited or removed once released, only followed by a new one. An in-code record rather than
 * kysely's FileMigrationProvider, because the CLI ships as one bundled file.
 */
export function migrations(kind: StoreKind): Record<string, Migration> {
  return {
    '0001-initial': initial(kind),
    '0002-node-checks': nodeChecks(kind),
    '0003-serve-tokens': serveTokens(),
  };
}

export type { StoreKind } from './kind.ts';
