import type { VersionPattern } from './version-pattern.ts';

/*
 * A loaded catalog as JSON text, and back, for the cache (cache.ts). JSON.parse is the fastest
 * reader Node has for plain data (faster than v8.deserialize on a 10,000-release catalog, measured
 * in bench/catalog-load.ts), so the snapshot is JSON, with a few tagged nodes for what JSON cannot
 * say:
 *   - Maps and Sets;
 *   - objects reached more than once (a release is in `catalog.releases` and in `releases`; a
 *     pack is a key of `packFrom`): stored once with an id, then referred to;
 *   - compiled version patterns, the one kind of value with code in a loaded catalog: stored by
 *     their source and compiled again on first use;
 *   - long arrays of objects of one shape (50,000 edges): stored by column.
 * A node without a tag is plain JSON and is used as parsed, without a walk, so reading costs about
 * one JSON.parse. Anything else (class instances, functions, undefined in an array, -0, NaN,
 * Infinity, a `__proto__` key) cannot be stored exactly: `encodeSnapshot` throws NotStorable and the
 * caller keeps no entry.
 */

const tag = '\u0000';

/** A value the snapshot cannot carry exactly. */
export class NotStorable extends Error {}

interface Snapshot {
  /** The patterns, by `[source, exact]`, in the order of their ids. */
  p: [string, string | null][];
  t: unknown;
}

/** Arrays of objects this long or longer are stored by column when their objects share a shape. */
const tableMin = 16;

function isPlainObject(v: object): v is Record<string, unknown> {
  return Object.getPrototypeOf(v) === Object.prototype;
}

function isPattern(v: object): v is VersionPattern {
  if (!isPlainObject(v) || typeof v.matches !== 'function' || typeof v.source !== 'string')
    return false;
  return Object.keys(v).every((k) => k === 'source' || k === 'exact' || k === 'matches');
}

/** The snapshot of `value` as JSON text; throws NotStorable when it cannot be stored exactly. */
export function encodeSnapshot(value: unknown): string {
  const seen = new Map<object, number>();
  count(value, seen);
  const ids = new Map<object, number>();
  const patterns = new Map<VersionPattern, number>();
  const snapshot: Snapshot = { p: [], t: undefined };

  const encodePattern = (p: VersionPattern): number => {
    let n = patterns.get(p);
    if (n === undefined) {
      if (p.exact !== undefined && typeof p.exact !== 'string') throw new NotStorable('exact');
      n = snapshot.p.length;
      patterns.set(p, n);
      snapshot.p.push([p.source, p.exact ?? null]);
    }
    return n;
  };

  /** The encoded value; `v` itself when it is plain JSON with nothing to tag. */
  const encode = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v) || Object.is(v, -0)) throw new NotStorable(String(v));
        return v;
      case 'object':
        break;
      default:
        throw new NotStorable(typeof v);
    }
    if (v === null) return v;
    const ref = ids.get(v);
    if (ref !== undefined) return { [tag]: 'r', i: ref };
    if (isPattern(v)) return { [tag]: 'p', n: encodePattern(v) };
    let id: number | undefined;
    if ((seen.get(v) ?? 0) > 1) {
      id = ids.size;
      ids.set(v, id);
    }
    if (Array.isArray(v)) {
      const table = id === undefined ? encodeTable(v) : undefined;
      if (table !== undefined) return table;
      const items = encodeItems(v);
      return items === v && id === undefined ? v : { [tag]: 'a', i: id, v: items };
    }
    if (v instanceof Map) {
      const keys = encodeItems([...v.keys()]);
      const values = [...v.values()];
      if (values.length > 0 && values.every((x) => Array.isArray(x) && (seen.get(x) ?? 0) === 1)) {
        const rows = (values as unknown[][]).flat();
        const lengths = (values as unknown[][]).map((x) => x.length);
        return { [tag]: 'ma', i: id, k: keys, n: lengths, v: encode(rows) };
      }
      return { [tag]: 'm', i: id, k: keys, v: encodeItems(values) };
    }
    if (v instanceof Set) return { [tag]: 's', i: id, v: encodeItems([...v]) };
    if (!isPlainObject(v)) throw new NotStorable(Object.prototype.toString.call(v));
    let changed = id !== undefined;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__' || k === tag) throw new NotStorable(k);
      if (x === undefined) continue;
      const e = encode(x);
      if (e !== x) changed = true;
      out[k] = e;
    }
    return changed ? { [tag]: 'o', i: id, v: out } : v;
  };

  const encodeItems = (items: readonly unknown[]): readonly unknown[] => {
    let out: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      if (x === undefined) throw new NotStorable('undefined in an array');
      const e = encode(x);
      if (e !== x) out ??= items.slice(0, i);
      out?.push(e);
    }
    return out ?? items;
  };

  /**
   * Columns for an array of unshared plain objects with the same keys in the same order, whose
   * values are strings, numbers, booleans, patterns or undefined (null in a column: absent).
   */
  const encodeTable = (rows: readonly unknown[]): unknown => {
    if (rows.length < tableMin) return undefined;
    const first = rows[0];
    if (typeof first !== 'object' || first === null || !isPlainObject(first)) return undefined;
    const keys = Object.keys(first);
    const columns: unknown[][] = keys.map(() => new Array(rows.length));
    const kinds: ('v' | 'p' | undefined)[] = keys.map(() => undefined);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (typeof row !== 'object' || row === null || !isPlainObject(row)) return undefined;
      if ((seen.get(row) ?? 0) > 1 || isPattern(row)) return undefined;
      const rowKeys = Object.keys(row);
      if (rowKeys.length !== keys.length) return undefined;
      for (let c = 0; c < keys.length; c++) {
        const k = keys[c] as string;
        if (rowKeys[c] !== k) return undefined;
        const x = row[k];
        const column = columns[c] as unknown[];
        if (x === undefined) {
          column[r] = null;
          continue;
        }
        const kind = typeof x === 'object' && x !== null && isPattern(x) ? 'p' : 'v';
        if (
          kind === 'v' &&
          typeof x !== 'string' &&
          typeof x !== 'number' &&
          typeof x !== 'boolean'
        )
          return undefined;
        if (kinds[c] !== undefined && kinds[c] !== kind) return undefined;
        kinds[c] = kind;
        column[r] = kind === 'p' ? encodePattern(x as VersionPattern) : encode(x);
      }
    }
    for (const key of keys) if (key === '__proto__' || key === tag) throw new NotStorable(key);
    return { [tag]: 't', k: keys, c: columns, p: kinds.map((k) => k === 'p') };
  };

  snapshot.t = encode(value);
  return JSON.stringify(snapshot);
}

/** Counts how often each object is reached, to give the shared ones an id. */
function count(v: unknown, seen: Map<object, number>): void {
  if (typeof v !== 'object' || v === null) return;
  const n = seen.get(v);
  seen.set(v, (n ?? 0) + 1);
  if (n !== undefined || isPattern(v)) return;
  if (Array.isArray(v) || v instanceof Set) for (const x of v) count(x, seen);
  else if (v instanceof Map) {
    for (const [k, x] of v) {
      count(k, seen);
      count(x, seen);
    }
  } else for (const x of Object.values(v)) count(x, seen);
}

/**
 * The value of a snapshot's JSON text. `pattern` rebuilds a version pattern from its source and
 * exact version. Throws on text that is not a snapshot.
 */
export function decodeSnapshot(
  text: string,
  pattern: (source: string, exact: string | undefined) => VersionPattern,
): unknown {
  const snapshot = JSON.parse(text) as Snapshot;
  const patterns = snapshot.p.map(([source, exact]) => pattern(source, exact ?? undefined));
  const objects: unknown[] = [];
  const at = <T>(id: number | undefined, value: T): T => {
    if (id !== undefined) objects[id] = value;
    return value;
  };

  const decode = (e: unknown): unknown => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return e;
    const node = e as Record<string, unknown>;
    const kind = node[tag];
    if (kind === undefined) return e;
    const id = node.i as number | undefined;
    switch (kind) {
      case 'r':
        return objects[id as number];
      case 'p':
        return patterns[node.n as number];
      case 'o': {
        const out = at(id, {} as Record<string, unknown>);
        const v = node.v as Record<string, unknown>;
        for (const k in v) out[k] = decode(v[k]);
        return out;
      }
      case 'a': {
        const items = node.v as unknown[];
        const out = at(id, new Array(items.length));
        for (let i = 0; i < items.length; i++) out[i] = decode(items[i]);
        return out;
      }
      case 'm': {
        const out = at(id, new Map());
        // Keys first, then values: the order in which the encoder gave ids.
        const keys = (node.k as unknown[]).map(decode);
        const values = node.v as unknown[];
        for (let i = 0; i < keys.length; i++) out.set(keys[i], decode(values[i]));
        return out;
      }
      case 'ma': {
        const out = at(id, new Map());
        const keys = node.k as unknown[];
        const lengths = node.n as number[];
        const decodedKeys = keys.map(decode);
        const rows = decode(node.v) as unknown[];
        let start = 0;
        for (let i = 0; i < keys.length; i++) {
          const end = start + (lengths[i] as number);
          out.set(decodedKeys[i], rows.slice(start, end));
          start = end;
        }
        return out;
      }
      case 's': {
        const out = at(id, new Set());
        for (const x of node.v as unknown[]) out.add(decode(x));
        return out;
      }
      case 't':
        return decodeTable(node, patterns);
      default:
        throw new Error(`not a catalog snapshot: node kind ${String(kind)}`);
    }
  };
  return decode(snapshot.t);
}

function decodeTable(node: Record<string, unknown>, patterns: VersionPattern[]): unknown[] {
  const keys = node.k as string[];
  const columns = node.c as unknown[][];
  const isPatternColumn = node.p as boolean[];
  const length = columns[0]?.length ?? 0;
  const rows = new Array(length);
  for (let r = 0; r < length; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < keys.length; c++) {
      const x = (columns[c] as unknown[])[r];
      if (x === null) continue;
      row[keys[c] as string] = isPatternColumn[c] ? patterns[x as number] : x;
    }
    rows[r] = row;
  }
  return rows;
}
