import type { PropertiesNode, PropertyNode } from 'properties-file/parser';
import { Properties } from 'properties-file/parser';
import type { StructuredMerge, StructuredOptions } from './structured.ts';
import { describeTreeMerge, resolveByPolicy } from './structured.ts';
import { isEqualTree, mergeTrees, type PathKey } from './tree.ts';

/**
 * Key-level merge of `.properties` (and of KEY=VALUE `.conf` files, which read the same way).
 * properties-file parses and unescapes, so `a\u0042=1` and `aB = 1` are one key, continuation
 * lines belong to their key, and the last of duplicate keys is the one in effect (as Java and
 * skiff's start_all read them). The output is the customer's lines: a changed value is written
 * into the customer's line (keeping its key spelling and separator), an added key comes with the
 * vendor's comment above it after the key that precedes it in the new vendor file, a removed key
 * goes with the vendor's comment above it. Comments are the customer's; vendor comment changes
 * are noted, not carried.
 */
export function mergeProperties(
  base: string | null,
  ours: string,
  theirs: string,
  options: StructuredOptions = {},
): StructuredMerge {
  const b = new Properties(base ?? '');
  const o = new Properties(ours);
  const t = new Properties(theirs);
  const tree = mergeTrees(b.toObject(), o.toObject(), t.toObject(), {
    resolve: (path) => resolveByPolicy(options.policy, keyOf(path)),
  });
  const { conflicts, notes } = describeTreeMerge(tree, keyOf);
  if (commentsOf(b) !== commentsOf(t) && base !== null) {
    notes.push(
      "the new version changes comments too; the customer's comments are kept as they are",
    );
  }
  if (tree.edits.length === 0) return { text: ours, conflicts, notes, changed: false };

  const entries: Entry[] = o.nodes.map((node) => ({
    key: node.type === 'property' ? node.key : undefined,
    node,
    lines: linesOf(node),
  }));
  for (const edit of tree.edits) {
    const key = keyOf(edit.path);
    if (edit.op === 'set') setValue(entries, key, must(t.getEffectiveProperty(key)));
    else if (edit.op === 'delete') removeKey(entries, key, b);
    else addKey(entries, key, t, b);
  }
  const text = entries.flatMap((e) => e.lines).join('\n');
  if (!isEqualTree(new Properties(text).toObject(), tree.merged)) {
    return {
      unparsable: { side: 'merged', message: 'the merged file does not read back as merged' },
    };
  }
  return { text, conflicts, notes, changed: text !== ours };
}

interface Entry {
  key: string | undefined;
  node: PropertiesNode | undefined;
  lines: string[];
}

function keyOf(path: PathKey[]): string {
  return String(path[0]);
}

function linesOf(node: PropertiesNode): string[] {
  return node.type === 'property' ? [...node.rawLines] : [node.rawLine];
}

function must<T>(v: T | undefined): T {
  if (v === undefined)
    throw new Error('merge: a key the merge takes from the new version is missing there');
  return v;
}

function commentsOf(p: Properties): string {
  return p
    .getComments()
    .map((c) => c.rawLine)
    .join('\n');
}

function setValue(entries: Entry[], key: string, theirs: PropertyNode): void {
  const index = entries.findLastIndex((e) => e.key === key);
  const entry = entries[index];
  if (entry?.node?.type !== 'property') return;
  const mine = entry.node;
  const oneLine = mine.rawLines.length === 1 && theirs.rawLines.length === 1;
  const hasSeparator = mine.separatorChar !== undefined || mine.separatorLeading !== '';
  entry.lines =
    oneLine && hasSeparator
      ? [
          `${mine.leadingWhitespace}${mine.escapedKey}${mine.separatorLeading}${mine.separatorChar ?? ''}${mine.separatorTrailing}${theirs.escapedValue}`,
        ]
      : [...theirs.rawLines];
}

/** Removes every line of the key, and the comment block right above it when the vendor wrote it. */
function removeKey(entries: Entry[], key: string, base: Properties): void {
  const vendorComment = commentBlockAbove(
    base.nodes,
    base.nodes.findLastIndex((n) => isKey(n, key)),
  );
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i]?.key !== key) continue;
    let start = i;
    const above = entries
      .slice(0, i)
      .map((e) => e.node)
      .filter((n): n is PropertiesNode => n !== undefined);
    const block = commentBlockAbove(above, above.length);
    if (block.length > 0 && block.join('\n') === vendorComment.join('\n')) start = i - block.length;
    entries.splice(start, i - start + 1);
  }
}

/** Adds the vendor's lines for a new key (with the comment above it) after its predecessor. */
function addKey(entries: Entry[], key: string, theirs: Properties, base: Properties): void {
  const at = theirs.nodes.findLastIndex((n) => isKey(n, key));
  const node = theirs.nodes[at];
  if (node?.type !== 'property') return;
  const baseComments = new Set(base.getComments().map((c) => c.rawLine));
  const comment = commentBlockAbove(theirs.nodes, at).filter((l) => !baseComments.has(l));
  const added: Entry[] = [
    ...comment.map((line) => ({ key: undefined, node: undefined, lines: [line] })),
    { key, node: undefined, lines: [...node.rawLines] },
  ];
  // After the nearest key before it in the new vendor file that the customer's file has.
  for (let i = at - 1; i >= 0; i--) {
    const prev = theirs.nodes[i];
    if (prev?.type !== 'property') continue;
    const j = entries.findLastIndex((e) => e.key === prev.key);
    if (j !== -1) {
      entries.splice(j + 1, 0, ...added);
      return;
    }
  }
  // Else before the nearest key after it (and its comment), else at the end.
  for (let i = at + 1; i < theirs.nodes.length; i++) {
    const next = theirs.nodes[i];
    if (next?.type !== 'property') continue;
    const j = entries.findIndex((e) => e.key === next.key);
    if (j !== -1) {
      let start = j;
      while (start > 0 && entries[start - 1]?.node?.type === 'comment') start--;
      entries.splice(start, 0, ...added);
      return;
    }
  }
  const last = entries.at(-1);
  const endsWithNewline = last?.node?.type === 'blank' && last.lines[0] === '';
  entries.splice(endsWithNewline ? entries.length - 1 : entries.length, 0, ...added);
}

function isKey(node: PropertiesNode, key: string): boolean {
  return node.type === 'property' && node.key === key;
}

function commentBlockAbove(nodes: readonly PropertiesNode[], index: number): string[] {
  const lines: string[] = [];
  for (let i = index - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n?.type !== 'comment') break;
    lines.unshift(n.rawLine);
  }
  return lines;
}
