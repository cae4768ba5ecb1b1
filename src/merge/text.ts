import { diff3Merge } from 'node-diff3';
import type { MergeConflict } from './types.ts';

export interface TextMerge {
  /** The merged text; with conflicts, git-style conflict markers (diff3 style, with the base). */
  text: string;
  conflicts: MergeConflict[];
}

export interface TextMergeLabels {
  ours: string;
  base: string;
  theirs: string;
}

/**
 * A line merge with diff3 semantics (node-diff3): changes on both sides that touch the same or
 * adjacent lines conflict, identical changes do not. Input and output use LF line ends; a missing
 * final newline is a difference like any other line. Conflict regions name the lines of the
 * customer's file (1-based) and carry markers:
 *
 *   <<<<<<< ours / ||||||| base / ======= / >>>>>>> theirs
 */
export function mergeText(
  base: string,
  ours: string,
  theirs: string,
  labels: TextMergeLabels = { ours: 'ours', base: 'base', theirs: 'theirs' },
): TextMerge {
  const a = splitLines(ours);
  const o = splitLines(base);
  const b = splitLines(theirs);
  const regions = diff3Merge(a, o, b, { excludeFalseConflicts: true });
  const out: string[] = [];
  const conflicts: MergeConflict[] = [];
  for (const r of regions) {
    if (r.ok) {
      out.push(...r.ok);
      continue;
    }
    const c = r.conflict;
    if (!c) continue;
    const where = lineRange(c.aIndex, c.a.length);
    conflicts.push({
      where,
      base: c.o.join('\n'),
      ours: c.a.join('\n'),
      theirs: c.b.join('\n'),
      message: `the customer and the new version both changed ${where} (base ${lineRange(c.oIndex, c.o.length)}, new version ${lineRange(c.bIndex, c.b.length)})`,
    });
    out.push(
      `<<<<<<< ${labels.ours}`,
      ...c.a,
      `||||||| ${labels.base}`,
      ...c.o,
      '=======',
      ...c.b,
      `>>>>>>> ${labels.theirs}`,
    );
  }
  return { text: joinLines(out, conflicts.length > 0), conflicts };
}

/**
 * Lines without their ends. A final newline shows as a final empty element, so "a\n" and "a"
 * differ the way git sees them (`\ No newline at end of file`).
 */
function splitLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

function joinLines(lines: string[], withMarkers: boolean): string {
  const text = lines.join('\n');
  // A marker line as the very last line needs its newline, as git writes it.
  return withMarkers && lines.at(-1)?.startsWith('>>>>>>> ') ? `${text}\n` : text;
}

function lineRange(index: number, length: number): string {
  if (length === 0) return `after line ${index}`;
  return length === 1 ? `line ${index + 1}` : `lines ${index + 1}-${index + length}`;
}
