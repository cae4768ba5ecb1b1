import { diff3Merge } from 'node-diff3';
import { defineEntry } from '../util/index.ts';
import type { ConflictResolution } from './types.ts';

/**
 * The key-level three-way merge every structured format shares. A document is read into a value
 * tree (maps of keys; arrays; scalars); the merge walks base, ours and theirs together and returns
 * the merged tree, the edits that turn ours into it, and the conflicts. Each format then applies
 * the edits to the customer's own document, so its layout survives.
 */

export type PathKey = string | number;

export type TreeEdit =
  | { op: 'set'; path: PathKey[]; value: unknown }
  | { op: 'add'; path: PathKey[]; value: unknown }
  | { op: 'delete'; path: PathKey[] };

export interface TreeConflict {
  path: PathKey[];
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

export interface TreeResolution {
  path: PathKey[];
  resolve: Exclude<ConflictResolution, 'stop'>;
}

export interface TreeMerge {
  /** The merged tree; at a conflict it holds the customer's value. */
  merged: unknown;
  edits: TreeEdit[];
  conflicts: TreeConflict[];
  /** Conflicts the policy settled. */
  resolved: TreeResolution[];
}

export interface TreeMergeOptions {
  /** Conflict policy: how a conflict at a path is settled (default: stop). */
  resolve?: (path: PathKey[]) => ConflictResolution;
  /** Merge arrays element by element (diff3 over the elements); else they are whole values. */
  mergeArrays?: boolean;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality over JSON-like trees; map key order does not matter. */
export function isEqualTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => isEqualTree(x, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && isEqualTree(a[k], b[k]));
  }
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  return false;
}

/** Three-way merge of value trees; `undefined` means "absent". */
export function mergeTrees(
  base: unknown,
  ours: unknown,
  theirs: unknown,
  options: TreeMergeOptions = {},
): TreeMerge {
  const out: TreeMerge = { merged: undefined, edits: [], conflicts: [], resolved: [] };
  out.merged = mergeAt([], base, ours, theirs, options, out);
  return out;
}

function mergeAt(
  path: PathKey[],
  base: unknown,
  ours: unknown,
  theirs: unknown,
  options: TreeMergeOptions,
  out: TreeMerge,
): unknown {
  if (isEqualTree(theirs, base)) return ours;
  if (isMap(ours) && isMap(theirs) && (base === undefined || isMap(base))) {
    const b = base ?? {};
    const merged: Record<string, unknown> = {};
    const keys = new Set([...Object.keys(ours), ...Object.keys(theirs), ...Object.keys(b)]);
    for (const key of keys) {
      const value = mergeAt(
        [...path, key],
        own(b, key),
        own(ours, key),
        own(theirs, key),
        options,
        out,
      );
      if (value !== undefined) defineEntry(merged, key, value);
    }
    return merged;
  }
  if (isEqualTree(ours, base)) {
    takeTheirs(path, ours, theirs, out);
    return theirs;
  }
  if (isEqualTree(ours, theirs)) return ours;
  if (options.mergeArrays && Array.isArray(base) && Array.isArray(ours) && Array.isArray(theirs)) {
    const merged = mergeArrays(base, ours, theirs);
    if (merged) {
      if (!isEqualTree(merged, ours)) out.edits.push({ op: 'set', path, value: merged });
      return merged;
    }
  }
  const resolution = options.resolve?.(path) ?? 'stop';
  if (resolution === 'theirs') {
    out.resolved.push({ path, resolve: 'theirs' });
    takeTheirs(path, ours, theirs, out);
    return theirs;
  }
  if (resolution === 'ours') out.resolved.push({ path, resolve: 'ours' });
  else out.conflicts.push({ path, base, ours, theirs });
  return ours;
}

function takeTheirs(path: PathKey[], ours: unknown, theirs: unknown, out: TreeMerge): void {
  if (theirs === undefined) out.edits.push({ op: 'delete', path });
  else if (ours === undefined) out.edits.push({ op: 'add', path, value: theirs });
  else out.edits.push({ op: 'set', path, value: theirs });
}

function own(map: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** diff3 over the elements (compared as canonical JSON); undefined when they conflict. */
function mergeArrays(base: unknown[], ours: unknown[], theirs: unknown[]): unknown[] | undefined {
  const items = new Map<string, unknown>();
  const keyed = (list: unknown[]) =>
    list.map((v) => {
      const k = canonicalJson(v);
      items.set(k, v);
      return k;
    });
  const regions = diff3Merge(keyed(ours), keyed(base), keyed(theirs), {
    excludeFalseConflicts: true,
  });
  const merged: unknown[] = [];
  for (const r of regions) {
    if (r.conflict) return undefined;
    for (const k of r.ok ?? []) merged.push(items.get(k));
  }
  return merged;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isMap(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** `a.b[2]["x.y"]`: how reports name a key path. */
export function formatKeyPath(path: readonly PathKey[]): string {
  if (path.length === 0) return '(document)';
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

/** A value for a conflict report: scalars as they are, trees as compact JSON. */
export function showValue(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
