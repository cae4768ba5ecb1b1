import { defineEntry } from '../util/index.ts';
import { rebaseLayout } from './layout.ts';
import type { StructuredMerge, StructuredOptions } from './structured.ts';
import { describeTreeMerge, parseSides, resolveByPolicy } from './structured.ts';
import { formatKeyPath, isEqualTree, isMap, mergeTrees } from './tree.ts';

/**
 * Key-level merge of JSON: objects merge by key, arrays by element (diff3 over the elements).
 * The result is printed with the customer's indentation and key order (added keys after the key
 * that precedes them in the new vendor file), then rebased onto the customer's text (layout.ts),
 * so lines the merge did not touch keep their bytes (an inline array stays inline unless the
 * merge changes it).
 */
export function mergeJson(
  base: string | null,
  ours: string,
  theirs: string,
  options: StructuredOptions = {},
): StructuredMerge {
  const sides = parseSides<unknown>({ base, ours, theirs }, (text) => {
    try {
      return { value: JSON.parse(text) };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  });
  if ('unparsable' in sides) return sides;
  const parsed = sides.values;
  const tree = mergeTrees(parsed.base, parsed.ours, parsed.theirs, {
    mergeArrays: true,
    resolve: (path) => resolveByPolicy(options.policy, formatKeyPath(path)),
  });
  const { conflicts, notes } = describeTreeMerge(tree, formatKeyPath);
  if (tree.edits.length === 0) return { text: ours, conflicts, notes, changed: false };

  const indent = indentOf(ours);
  const ending = /\n$/.test(ours) ? '\n' : '';
  // Containers inline in the customer's file stay inline; new ones are inline as the vendor wrote them.
  const inline = inlineContainers(parsed.ours, ours);
  for (const [path, style] of inlineContainers(parsed.theirs, theirs)) {
    if (!hasPath(parsed.ours, path)) inline.set(path, style);
  }
  const before = printJson(parsed.ours, indent, inline) + ending;
  const ordered = orderLike(tree.merged, parsed.ours, parsed.theirs);
  const after = printJson(ordered, indent, inline) + ending;
  for (const text of [rebaseLayout(ours, before, after), after]) {
    try {
      if (isEqualTree(JSON.parse(text), tree.merged)) {
        return { text, conflicts, notes, changed: text !== ours };
      }
    } catch {
      // the rebased text did not parse: try the plain print
    }
  }
  return {
    unparsable: { side: 'merged', message: 'the merged file does not read back as merged' },
  };
}

/** The customer's indentation: the first indented line's leading whitespace (tab or spaces). */
function indentOf(text: string): string {
  const m = /\n([ \t]+)["{[\]}\w-]/.exec(text);
  return m?.[1] ?? '  ';
}

type InlineStyle = 'spaced' | 'tight';

/** Compact JSON: `[1, 2]` / `{"a": 1}` (spaced) or `[1,2]` / `{"a":1}` (tight). */
function compact(v: unknown, style: InlineStyle): string {
  const [comma, colon] = style === 'spaced' ? [', ', ': '] : [',', ':'];
  if (Array.isArray(v)) return `[${v.map((x) => compact(x, style)).join(comma)}]`;
  if (isMap(v)) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}${colon}${compact(x, style)}`)
      .join(comma)}}`;
  }
  return JSON.stringify(v);
}

/** Paths of the containers the customer wrote on one line, and in which style. */
function inlineContainers(value: unknown, text: string): Map<string, InlineStyle> {
  const found = new Map<string, InlineStyle>();
  const walk = (v: unknown, path: string) => {
    const entries = Array.isArray(v) ? v.entries() : isMap(v) ? Object.entries(v) : undefined;
    if (!entries) return;
    if (path !== '' && (Array.isArray(v) ? v.length > 0 : Object.keys(v as object).length > 0)) {
      for (const style of ['spaced', 'tight'] as const) {
        if (text.includes(compact(v, style))) {
          found.set(path, style);
          return;
        }
      }
    }
    for (const [k, x] of entries) walk(x, `${path}/${k}`);
  };
  walk(value, '');
  return found;
}

function hasPath(value: unknown, path: string): boolean {
  let v = value;
  for (const k of path.split('/').slice(1)) {
    if (Array.isArray(v)) v = v[Number(k)];
    else if (isMap(v) && Object.hasOwn(v, k)) v = v[k];
    else return false;
    if (v === undefined) return false;
  }
  return true;
}

/** JSON.stringify with an indent, except that containers the customer inlined stay inline. */
function printJson(v: unknown, indent: string, inline: Map<string, InlineStyle>): string {
  const print = (x: unknown, path: string, depth: number): string => {
    const isArray = Array.isArray(x);
    if (!isArray && !isMap(x)) return JSON.stringify(x);
    const entries: [string, unknown][] = isArray
      ? x.map((e, i) => [String(i), e])
      : Object.entries(x);
    if (entries.length === 0) return isArray ? '[]' : '{}';
    const style = inline.get(path);
    if (style) return compact(x, style);
    const pad = indent.repeat(depth + 1);
    const body = entries.map(
      ([k, e]) =>
        `${pad}${isArray ? '' : `${JSON.stringify(k)}: `}${print(e, `${path}/${k}`, depth + 1)}`,
    );
    return `${isArray ? '[' : '{'}\n${body.join(',\n')}\n${indent.repeat(depth)}${isArray ? ']' : '}'}`;
  };
  return print(v, '', 0);
}

/**
 * The merged tree with the customer's key order; keys the customer's file lacks go after the key
 * that precedes them in the new vendor file.
 */
function orderLike(merged: unknown, ours: unknown, theirs: unknown): unknown {
  if (Array.isArray(merged)) {
    return merged.map((v, i) =>
      orderLike(
        v,
        Array.isArray(ours) ? ours[i] : undefined,
        Array.isArray(theirs) ? theirs[i] : undefined,
      ),
    );
  }
  if (!isMap(merged)) return merged;
  const o = isMap(ours) ? ours : {};
  const t = isMap(theirs) ? theirs : {};
  const keys = Object.keys(o).filter((k) => Object.hasOwn(merged, k));
  const theirsKeys = Object.keys(t);
  for (const k of Object.keys(merged)) {
    if (keys.includes(k)) continue;
    let at = keys.length;
    for (let i = theirsKeys.indexOf(k) - 1; i >= 0; i--) {
      const j = keys.indexOf(theirsKeys[i] as string);
      if (j !== -1) {
        at = j + 1;
        break;
      }
    }
    keys.splice(at, 0, k);
  }
  const out: Record<string, unknown> = {};
  // Keys are data here (`__proto__` too): own properties, never a prototype (src/util/safe-keys.ts).
  for (const k of keys) defineEntry(out, k, orderLike(own(merged, k), own(o, k), own(t, k)));
  return out;
}

function own(map: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
