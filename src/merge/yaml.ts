import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Pair,
  parseDocument,
  type YAMLMap,
} from 'yaml';
import { rebaseLayout } from './layout.ts';
import type { StructuredMerge, StructuredOptions } from './structured.ts';
import { describeTreeMerge, resolveByPolicy } from './structured.ts';
import { formatKeyPath, isEqualTree, mergeTrees, type PathKey } from './tree.ts';

/**
 * Key-level merge of YAML through yaml@2's Document API: maps merge by key, sequences merge by
 * element (diff3 over the elements; a conflict inside makes the whole sequence one conflict).
 * Edits go into the customer's Document (comments, key order, styles survive); added keys come
 * as the vendor's pair, with its comment, after the key that precedes them in the new vendor
 * file. The edited Document is then rebased onto the customer's text (layout.ts), so lines the
 * merge did not touch keep their bytes. Anchors and aliases are merged as the values they stand for.
 */
export function mergeYaml(
  base: string | null,
  ours: string,
  theirs: string,
  options: StructuredOptions = {},
): StructuredMerge {
  const docs = {
    base: parseDocument(base ?? ''),
    ours: parseDocument(ours),
    theirs: parseDocument(theirs),
  };
  for (const side of ['base', 'ours', 'theirs'] as const) {
    const error = docs[side].errors[0];
    if (error)
      return { unparsable: { side, message: error.message.split('\n')[0] ?? error.message } };
  }
  const values = {
    base: base === null ? undefined : toValue(docs.base),
    ours: toValue(docs.ours),
    theirs: toValue(docs.theirs),
  };
  const tree = mergeTrees(values.base, values.ours, values.theirs, {
    mergeArrays: true,
    resolve: (path) => resolveByPolicy(options.policy, formatKeyPath(path)),
  });
  const { conflicts, notes } = describeTreeMerge(tree, formatKeyPath);
  if (tree.edits.length === 0) return { text: ours, conflicts, notes, changed: false };

  const doc = docs.ours;
  const style = styleOf(ours);
  const before = doc.toString(style);
  for (const edit of tree.edits) {
    if (edit.op === 'delete') doc.deleteIn(edit.path);
    else if (edit.op === 'set') setAt(doc, docs.theirs, edit.path, edit.value);
    else addAt(doc, docs.theirs, edit.path, edit.value);
  }
  const after = doc.toString(style);
  for (const text of [rebaseLayout(ours, before, after), after]) {
    const check = parseDocument(text);
    if (check.errors.length === 0 && isEqualTree(toValue(check), tree.merged)) {
      return { text, conflicts, notes, changed: text !== ours };
    }
  }
  return {
    unparsable: { side: 'merged', message: 'the merged file does not read back as merged' },
  };
}

function toValue(doc: Document): unknown {
  const v = doc.toJS({ maxAliasCount: -1 }) as unknown;
  return v === null && doc.contents === null ? undefined : v;
}

/** The customer's indentation and sequence style, so re-serialised lines match theirs. */
function styleOf(text: string): { indent: number; indentSeq: boolean; lineWidth: number } {
  const indented = /^( +)\S/m.exec(text);
  const indent = indented ? Math.min(Math.max(indented[1]?.length ?? 2, 1), 8) : 2;
  const seqUnderKey = /^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(text);
  return { indent, indentSeq: !seqUnderKey, lineWidth: 0 };
}

function setAt(doc: Document, theirs: Document, path: PathKey[], value: unknown): void {
  const current = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isScalar(current) && (value === null || typeof value !== 'object')) {
    current.value = value;
    return;
  }
  const source = path.length === 0 ? theirs.contents : theirs.getIn(path, true);
  const node =
    isNode(source) && isEqualTree(source.toJS(theirs, { maxAliasCount: -1 }), value)
      ? source.clone()
      : doc.createNode(value);
  if (path.length === 0) doc.contents = node as Document['contents'];
  else doc.setIn(path, node);
}

function addAt(doc: Document, theirs: Document, path: PathKey[], value: unknown): void {
  const parentPath = path.slice(0, -1);
  const key = path.at(-1);
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  const theirsParent = parentPath.length === 0 ? theirs.contents : theirs.getIn(parentPath, true);
  if (!isMap(parent) || !isMap(theirsParent)) {
    doc.setIn(path, doc.createNode(value));
    return;
  }
  const items = (theirsParent as YAMLMap).items as Pair[];
  const at = items.findIndex((p) => keyOf(p) === key);
  const pair = items[at];
  if (
    !pair ||
    !isNode(pair.value) ||
    !isEqualTree(pair.value.toJS(theirs, { maxAliasCount: -1 }), value)
  ) {
    doc.setIn(path, doc.createNode(value));
    return;
  }
  const mine = (parent as YAMLMap).items as Pair[];
  let insertAt = mine.length;
  for (let i = at - 1; i >= 0; i--) {
    const prevKey = keyOf(items[i] as Pair);
    const j = mine.findIndex((p) => keyOf(p) === prevKey);
    if (j !== -1) {
      insertAt = j + 1;
      break;
    }
  }
  mine.splice(insertAt, 0, pair.clone() as Pair);
}

function keyOf(pair: Pair): unknown {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  if (isSeq(k) || isMap(k)) return JSON.stringify(k.toJSON());
  return String(k);
}
