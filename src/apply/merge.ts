import { merge as diff3Merge } from 'node-diff3';

/**
 * The apply engine's view of a configuration merge. It has the shape of src/merge's `mergeFile`
 * (the structured, key-level merges); until that module's index.ts is published, this line merge
 * (diff3 over lines) stands in for every format. See docs/apply.md, "Configuration".
 */
export type MergeOutcome =
  | 'take-theirs'
  | 'keep-ours'
  | 'merged'
  | 'conflict'
  | 'delete'
  | 'keep-deleted'
  | 'orphaned';

export interface MergeConflict {
  where: string;
  message: string;
}

export interface FileMerge {
  path: string;
  outcome: MergeOutcome;
  content: Buffer | null;
  conflicts: MergeConflict[];
  notes: string[];
}

export interface MergeInput {
  path: string;
  base: Buffer | null;
  ours: Buffer | null;
  theirs: Buffer | null;
}

function lines(b: Buffer): string[] {
  return b.toString('utf8').split(/(?<=\n)/);
}

export function mergeFile(o: MergeInput): FileMerge {
  const { path, base, ours, theirs } = o;
  const same = (a: Buffer | null, b: Buffer | null) =>
    a === null ? b === null : b !== null && a.equals(b);
  const result = (outcome: MergeOutcome, content: Buffer | null, notes: string[] = []) => ({
    path,
    outcome,
    content,
    conflicts: [],
    notes,
  });
  if (same(ours, theirs)) return result('keep-ours', ours);
  if (same(base, ours))
    return theirs === null ? result('delete', null) : result('take-theirs', theirs);
  if (same(base, theirs)) return result('keep-ours', ours);
  if (ours === null) return result('keep-deleted', null, ['the customer deleted this file']);
  if (theirs === null) return result('orphaned', ours, ['the vendor dropped this changed file']);
  const m = diff3Merge(lines(ours), lines(base ?? Buffer.alloc(0)), lines(theirs), {
    excludeFalseConflicts: true,
    stringSeparator: /(?<=\n)/,
  });
  const text = m.result.map((t) => (/^(<{7}|={7}|>{7})$/.test(t) ? `${t}\n` : t)).join('');
  if (!m.conflict) return result('merged', Buffer.from(text), ['merged line by line']);
  return {
    path,
    outcome: 'conflict',
    content: Buffer.from(text),
    conflicts: [
      {
        where: 'lines',
        message: 'the customer and the vendor changed the same lines (see the <<<<<<< markers)',
      },
    ],
    notes: [],
  };
}
