import { compileKeyPattern } from '../util/index.ts';
import type { PathKey, TreeConflict, TreeMerge } from './tree.ts';
import { showValue } from './tree.ts';
import type { ConflictResolution, ConflictRule, MergeConflict } from './types.ts';

/** What a key-level merger returns: the customer's file with the vendor's changes applied. */
export type StructuredMerge =
  | {
      /** The merged text (LF line ends, no BOM); with conflicts, the proposed file. */
      text: string;
      conflicts: MergeConflict[];
      notes: string[];
      /** False when the customer's file needs no change (then `text` is the customer's). */
      changed: boolean;
    }
  | { unparsable: { side: 'base' | 'ours' | 'theirs' | 'merged'; message: string } };

export interface StructuredOptions {
  policy?: readonly ConflictRule[];
}

type Side = 'base' | 'ours' | 'theirs';

/**
 * The three sides of a merge, each read by `parse` (the base is absent when the file is new). The
 * first side that does not parse makes the merge unparsable, naming that side.
 */
export function parseSides<T>(
  texts: Record<Side, string | null>,
  parse: (text: string) => { value: T } | { error: string },
): { values: Partial<Record<Side, T>> } | { unparsable: { side: Side; message: string } } {
  const values: Partial<Record<Side, T>> = {};
  for (const side of ['base', 'ours', 'theirs'] as const) {
    const text = texts[side];
    if (text === null) continue;
    const parsed = parse(text);
    if ('error' in parsed) return { unparsable: { side, message: parsed.error } };
    values[side] = parsed.value;
  }
  return { values };
}

/** The first policy rule whose key matches `where` (exactly or as a `*` glob), else stop. */
export function resolveByPolicy(
  policy: readonly ConflictRule[] | undefined,
  where: string,
): ConflictResolution {
  for (const rule of policy ?? []) {
    if (rule.key === where || compileKeyPattern(rule.key).matches(where)) return rule.resolve;
  }
  return 'stop';
}

/** Conflicts and policy decisions of a tree merge, as the report shows them. */
export function describeTreeMerge(
  tree: TreeMerge,
  where: (path: PathKey[]) => string,
): { conflicts: MergeConflict[]; notes: string[] } {
  const conflicts = tree.conflicts.map((c) => describeConflict(c, where(c.path)));
  const notes = tree.resolved.map(
    (r) =>
      `${where(r.path)}: changed by both; the conflict policy keeps ${r.resolve === 'ours' ? "the customer's value" : "the new version's value"}`,
  );
  for (const e of tree.edits) {
    const w = where(e.path);
    if (e.op === 'add') notes.push(`${w}: added by the new version`);
    else if (e.op === 'delete') notes.push(`${w}: removed by the new version`);
    else notes.push(`${w}: set to the new version's value`);
  }
  return { conflicts, notes };
}

function describeConflict(c: TreeConflict, where: string): MergeConflict {
  const conflict: MergeConflict = { where, message: conflictMessage(c, where) };
  const base = showValue(c.base);
  const ours = showValue(c.ours);
  const theirs = showValue(c.theirs);
  if (base !== undefined) conflict.base = base;
  if (ours !== undefined) conflict.ours = ours;
  if (theirs !== undefined) conflict.theirs = theirs;
  return conflict;
}

function conflictMessage(c: TreeConflict, where: string): string {
  if (c.ours === undefined) {
    return `${where}: the customer removed it and the new version changes it to ${showValue(c.theirs)}`;
  }
  if (c.theirs === undefined) {
    return `${where}: the customer changed it to ${showValue(c.ours)} and the new version removes it`;
  }
  if (c.base === undefined) {
    return `${where}: the customer and the new version both add it, as ${showValue(c.ours)} and ${showValue(c.theirs)}`;
  }
  return `${where}: the customer changed ${showValue(c.base)} to ${showValue(c.ours)} and the new version changes it to ${showValue(c.theirs)}`;
}
