import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { UpliftError } from '../errors/index.ts';
import { decodeText, encodeText, isBinary } from './encoding.ts';
import { mergeJson } from './json.ts';
import { mergeProperties } from './properties.ts';
import type { StructuredMerge, StructuredOptions } from './structured.ts';
import { mergeText } from './text.ts';
import type { FileMerge, MergeFormat, MergeInput, MergeOutcome } from './types.ts';
import { mergeXml } from './xml.ts';
import { mergeYaml } from './yaml.ts';

export { isBinary } from './encoding.ts';
export { mergeText, type TextMerge } from './text.ts';
export type {
  ConflictResolution,
  ConflictRule,
  FileMerge,
  MergeConflict,
  MergeFormat,
  MergeInput,
  MergeOutcome,
} from './types.ts';

const byExtension: Record<string, MergeFormat> = {
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.properties': 'properties',
  '.xml': 'xml',
  '.json': 'json',
};

/** Extensions whose files are merged as properties when every line is `KEY=VALUE` or a `#` comment. */
const keyValueExtensions = ['.conf', '.cfg', '.env'];

/**
 * The merge format of a file: by extension (.yaml/.yml, .properties, .xml, .json), else text.
 * A `.conf`/`.cfg`/`.env` file is properties when `contents` are given and every side present is
 * KEY=VALUE lines (`NAME=value`, `#` comments, blank lines, no backslashes), like skiff's
 * conf/start-script.conf; else (an nginx or httpd .conf) it is text.
 */
export function formatOf(path: string, contents: readonly (Buffer | null)[] = []): MergeFormat {
  const lower = path.toLowerCase();
  const dot = lower.lastIndexOf('.');
  const ext = dot > lower.lastIndexOf('/') ? lower.slice(dot) : '';
  const known = byExtension[ext];
  if (known) return known;
  if (keyValueExtensions.includes(ext)) {
    const present = contents.filter((c): c is Buffer => c !== null);
    if (present.length > 0 && present.every(isKeyValueFile)) return 'properties';
  }
  return 'text';
}

function isKeyValueFile(bytes: Buffer): boolean {
  if (isBinary(bytes)) return false;
  const { text } = decodeText(bytes);
  if (text.includes('\\')) return false;
  return text
    .split('\n')
    .every((line) => /^\s*(#.*)?$/.test(line) || /^\s*[A-Za-z_][\w.-]*\s*=/.test(line));
}

/**
 * Three-way merge of one configuration file: base = the old vendor file, ours = the customer's
 * file, theirs = the new vendor file (null: absent). Pure: no I/O. See docs/merge.md.
 */
export function mergeFile(input: MergeInput): FileMerge {
  const { path, base, ours, theirs } = input;
  const format = input.format ?? formatOf(path, [base, ours, theirs]);
  const result = (
    outcome: MergeOutcome,
    content: Buffer | null,
    notes: string[] = [],
    conflicts: FileMerge['conflicts'] = [],
  ): FileMerge => ({ path, format, outcome, content, conflicts, notes });

  if (ours === null) {
    if (theirs === null) return result('keep-deleted', null);
    if (base === null) return result('take-theirs', theirs, ['new in the new version']);
    return result(
      'keep-deleted',
      null,
      base.equals(theirs)
        ? ['the customer deleted this vendor file; it stays deleted']
        : [
            'the customer deleted this vendor file; it stays deleted, though the new version changes it',
          ],
    );
  }
  if (theirs === null) {
    if (base === null) return result('keep-ours', ours, ["the customer's own file"]);
    if (ours.equals(base))
      return result('delete', null, ['the new version no longer ships this file']);
    return result('orphaned', ours, [
      `the new version no longer ships this file; the customer changed it, so it is kept as ${path}.orphaned`,
    ]);
  }
  if (base?.equals(theirs)) return result('keep-ours', ours, []);
  if (base?.equals(ours))
    return result('take-theirs', theirs, ['the customer had not changed this file']);
  if (ours.equals(theirs))
    return result('keep-ours', ours, ['the customer already has the new version']);

  const sides = [base, ours, theirs].filter((b): b is Buffer => b !== null);
  if (sides.some(isBinary)) {
    return result(
      'conflict',
      ours,
      [],
      [
        {
          where: '(whole file)',
          message: `${path} is binary and changed by both the customer and the new version; binary files are never merged`,
        },
      ],
    );
  }

  const mine = decodeText(ours);
  const baseText = base === null ? null : decodeText(base).text;
  const theirsText = decodeText(theirs).text;
  const notes: string[] = [];
  if (base === null) notes.push('the customer and the new version both add this file');
  if (format !== 'text') {
    const structured = mergeStructured(format, baseText, mine.text, theirsText, {
      policy: input.policy,
    });
    if ('unparsable' in structured) {
      const { side, message } = structured.unparsable;
      notes.push(
        `${sideName(side)} cannot be read as ${format} (${message}); merged line by line instead`,
      );
    } else {
      notes.push(...structured.notes);
      if (structured.conflicts.length > 0) {
        return result('conflict', encodeText(structured.text, mine), notes, structured.conflicts);
      }
      if (!structured.changed) return result('keep-ours', ours, notes);
      return result('merged', encodeText(structured.text, mine), notes);
    }
  }
  const text = mergeText(baseText ?? '', mine.text, theirsText, {
    ours: `${path} (customer)`,
    base: `${path} (old version)`,
    theirs: `${path} (new version)`,
  });
  if (text.conflicts.length > 0) {
    return result('conflict', encodeText(text.text, mine), notes, text.conflicts);
  }
  if (text.text === mine.text) return result('keep-ours', ours, notes);
  return result('merged', encodeText(text.text, mine), notes);
}

function mergeStructured(
  format: Exclude<MergeFormat, 'text'>,
  base: string | null,
  ours: string,
  theirs: string,
  options: StructuredOptions,
): StructuredMerge {
  try {
    switch (format) {
      case 'yaml':
        return mergeYaml(base, ours, theirs, options);
      case 'json':
        return mergeJson(base, ours, theirs, options);
      case 'xml':
        return mergeXml(base, ours, theirs, options);
      case 'properties':
        return mergeProperties(base, ours, theirs, options);
    }
  } catch (e) {
    // A parser that throws (properties-file on a bad \u escape) rather than reporting.
    return { unparsable: { side: 'ours', message: e instanceof Error ? e.message : String(e) } };
  }
}

function sideName(side: 'base' | 'ours' | 'theirs' | 'merged'): string {
  switch (side) {
    case 'base':
      return 'the old vendor file';
    case 'ours':
      return "the customer's file";
    case 'theirs':
      return 'the new vendor file';
    case 'merged':
      return 'the key-level result';
  }
}

/**
 * A unified diff (`--- a/path`, `+++ b/path`) from `before` to `after` (null: no file), as
 * `--dry-run` and reports show it; empty when the files are equal. Binary files give one line.
 */
export function unifiedDiff(path: string, before: Buffer | null, after: Buffer | null): string {
  if (before !== null && after !== null && before.equals(after)) return '';
  const from = before === null ? '/dev/null' : `a/${path}`;
  const to = after === null ? '/dev/null' : `b/${path}`;
  if ((before !== null && isBinary(before)) || (after !== null && isBinary(after))) {
    return `Binary files ${from} and ${to} differ\n`;
  }
  const text = (b: Buffer | null) => (b === null ? '' : b.toString('utf8'));
  return createTwoFilesPatch(from, to, text(before), text(after), undefined, undefined, {
    headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true },
  });
}

/**
 * The conflict report for people: one block per file that needs the operator, naming each
 * conflict and what the proposed file holds. Empty when nothing conflicts.
 */
export function conflictReport(merges: readonly FileMerge[]): string {
  const lines: string[] = [];
  for (const m of merges) {
    if (m.outcome === 'conflict') {
      lines.push(
        `${m.path}: ${m.conflicts.length} conflict${m.conflicts.length === 1 ? '' : 's'} (${m.format})`,
      );
      for (const c of m.conflicts) {
        lines.push(`  ${c.where}: ${c.message}`);
        if (c.base !== undefined) lines.push(`    old version: ${oneLine(c.base)}`);
        if (c.ours !== undefined) lines.push(`    customer:    ${oneLine(c.ours)}`);
        if (c.theirs !== undefined) lines.push(`    new version: ${oneLine(c.theirs)}`);
      }
      lines.push(
        m.format === 'text' || m.conflicts[0]?.where === '(whole file)'
          ? `  proposed file: ${m.format === 'text' ? 'conflict markers where both changed' : "the customer's file"}; the new version's file is ${m.path}.new`
          : `  proposed file: the vendor's other changes applied, the customer's value kept at each conflict; the new version's file is ${m.path}.new`,
      );
    } else if (m.outcome === 'orphaned') {
      lines.push(`${m.path}: orphaned; the customer's changed copy is kept as ${m.path}.orphaned`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function oneLine(s: string): string {
  const flat = s.replace(/\n/g, '\\n');
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/**
 * A SHA-256 over the three inputs of a merge. Record it when staging; `assertMergeInputsUnchanged`
 * at cutover refuses a merge whose inputs changed since (a customer edit in between, C.7.8).
 */
export function mergeInputsDigest(input: Pick<MergeInput, 'base' | 'ours' | 'theirs'>): string {
  const h = createHash('sha256');
  for (const side of [input.base, input.ours, input.theirs]) {
    if (side === null) h.update('absent\0');
    else h.update(`${side.length}\0`).update(side);
  }
  return h.digest('hex');
}

/** Throws UPLIFT_MERGE_STALE when the inputs no longer have the digest recorded at staging. */
export function assertMergeInputsUnchanged(
  input: Pick<MergeInput, 'path' | 'base' | 'ours' | 'theirs'>,
  digest: string,
): void {
  if (mergeInputsDigest(input) === digest) return;
  throw new UpliftError(
    'UPLIFT_MERGE_STALE',
    `${input.path} changed after its merge was staged; the staged merge no longer applies`,
    {
      location: { file: input.path },
      hint: 'run the upgrade again so the merge is redone with the file as it is now',
    },
  );
}
