/** The formats uplift merges. `text` is a line merge; the others are key-level. */
export type MergeFormat = 'yaml' | 'properties' | 'xml' | 'json' | 'text';

/**
 * What the apply engine does with one configuration file:
 * - `take-theirs`: install the new vendor file (the customer had not changed the old one, or the
 *   vendor ships a file that is new to both);
 * - `keep-ours`: leave the customer's file exactly as it is (the vendor did not change the file,
 *   the customer's own file, or both sides made the same change);
 * - `merged`: install `content`, the customer's file with the vendor's changes applied;
 * - `conflict`: stop; `content` is the PROPOSED file, never installed without the operator;
 * - `delete`: remove the file (the vendor dropped it and the customer had not changed it);
 * - `keep-deleted`: the customer deleted a vendor file; it stays deleted;
 * - `orphaned`: the vendor dropped a file the customer changed; `content` is the customer's file
 *   to keep as `<path>.orphaned`, and the report says so.
 */
export type MergeOutcome =
  | 'take-theirs'
  | 'keep-ours'
  | 'merged'
  | 'conflict'
  | 'delete'
  | 'keep-deleted'
  | 'orphaned';

/** One place where the customer and the vendor changed the same thing differently. */
export interface MergeConflict {
  /** A key path (`a.b[2]`), an XPath (`/Server/Connector[@port='8080']/@protocol`) or a line range (`lines 4-6`). */
  where: string;
  /** The old vendor value, the customer's value and the new vendor value (absent: the side has none). */
  base?: string;
  ours?: string;
  theirs?: string;
  message: string;
}

export interface FileMerge {
  path: string;
  format: MergeFormat;
  outcome: MergeOutcome;
  /** The file to install (for a conflict: the proposed file; for `orphaned`: the customer's file). */
  content: Buffer | null;
  conflicts: MergeConflict[];
  /** What was done, one sentence each: keys the vendor changed, resolved by policy, comments not carried. */
  notes: string[];
}

/** How a conflict at a key is settled instead of stopping: the customer's value, the vendor's, or stop. */
export type ConflictResolution = 'ours' | 'theirs' | 'stop';

/**
 * Per-setting conflict policy (from the profile): the first rule whose `key` matches the conflict's
 * `where` (exactly, or as a glob where `*` matches any run of characters) decides. Unmatched: stop.
 */
export interface ConflictRule {
  key: string;
  resolve: ConflictResolution;
}

export interface MergeInput {
  path: string;
  /** The old vendor file; null when the old version did not ship it. */
  base: Buffer | null;
  /** The customer's current file; null when it is absent. */
  ours: Buffer | null;
  /** The new vendor file; null when the new version does not ship it. */
  theirs: Buffer | null;
  /** Overrides the format `formatOf` would pick. */
  format?: MergeFormat;
  /** Conflict policy for key-level formats; without it every conflict stops. */
  policy?: readonly ConflictRule[];
}
