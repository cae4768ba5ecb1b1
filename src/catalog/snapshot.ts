import { endianness } from 'node:os';
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
  /** The byte order of the packed index lists (they are native Uint32Arrays). */
  e: string;
  /** The patterns, as string indices `source, exact` (`absent`: none), packed, by id. */
  p: string;
  /** Strings that table columns and Map keys name by index: each spelled once. */
  s: string[];
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

/** Column kinds: values as JSON; pattern ids, string ids or unsigned integers, packed. */
type ColumnKind = 'v' | 'p' | 's' | 'u';

/**
 * Index lists (string and pattern ids, lengths, ids of shared objects) are packed as base64 of a
 * Uint32Array: JSON.parse reads 350,000 small numbers in about 7 ms, Buffer about 0.7 ms.
 */
const absent = 0xffffffff;

function pack(numbers: readonly number[]): string {
  return Buffer.from(Uint32Array.from(numbers).buffer).toString('base64');
}

function unpack(text: unknown): Uint32Array {
  if (typeof text !== 'string') throw new Error('not a catalog snapshot: a packed list expected');
  const b = Buffer.from(text, 'base64');
  return b.byteOffset % 4 === 0
    ? new Uint32Array(b.buffer, b.byteOffset, b.length >> 2)
    : new Uint32Array(Uint8Array.from(b).buffer);
}

const isIndex = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < absent;

/** The snapshot of `value` as JSON text; throws NotStorable when it cannot be stored exactly. */
export function encodeSnapshot(value: unknown): string {
  const seen = new Map<object, number>();
  count(value, seen);
  const ids = new Map<object, number>();
  const patterns = new Map<VersionPattern, number>();
  const strings = new Map<string, number>();
  const snapshot: Snapshot = { e: endianness(), p: '', s: [], t: undefined };
  const patternList: number[] = [];

  const encodeString = (s: string): number => {
    let n = strings.get(s);
    if (n === undefined) {
      n = snapshot.s.length;
      strings.set(s, n);
      snapshot.s.push(s);
    }
    return n;
  };
  const encodePattern = (p: VersionPattern): number => {
    let n = patterns.get(p);
    if (n === undefined) {
      if (p.exact !== undefined && typeof p.exact !== 'string') throw new NotStorable('exact');
      n = patterns.size;
      patterns.set(p, n);
      patternList.push(
        encodeString(p.source),
        p.exact === undefined ? absent : encodeString(p.exact),
      );
    }
    return n;
  };
  const isShared = (v: object) => (seen.get(v) ?? 0) > 1;
  const newId = (v: object) => {
    const id = ids.size;
    ids.set(v, id);
    return id;
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
    const id = isShared(v) ? newId(v) : undefined;
    if (Array.isArray(v)) {
      const table = id === undefined ? encodeTable(v) : undefined;
      if (table !== undefined) return table;
      return encodeArray(v, id);
    }
    if (v instanceof Map) return encodeMap(v, id);
    if (v instanceof Set) return { [tag]: 'S', i: id, v: encodeItems([...v]) };
    if (!isPlainObject(v)) throw new NotStorable(Object.prototype.toString.call(v));
    const out = encodeFields(v);
    return out === v && id === undefined ? v : { [tag]: 'o', i: id, v: out };
  };

  /** The object with its values encoded; `v` itself when none changed. */
  const encodeFields = (v: Record<string, unknown>): Record<string, unknown> => {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__' || k === tag) throw new NotStorable(k);
      if (x === undefined) continue;
      const e = encode(x);
      if (e !== x) changed = true;
      out[k] = e;
    }
    return changed ? out : v;
  };

  /**
   * The elements of an array, encoded; `v` itself when none changed. With `inlineShared`, an
   * element reached more than once whose own fields are plain JSON (a release, which `releases`
   * also holds) stays as it is, and its id goes in `sharedIds` at its index.
   */
  const encodeElements = (
    v: readonly unknown[],
    inlineShared: boolean,
  ): { items: readonly unknown[]; sharedIds?: number[] } => {
    let out: unknown[] | undefined;
    let sharedIds: number[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === undefined) throw new NotStorable('undefined in an array');
      let e: unknown;
      if (
        inlineShared &&
        typeof x === 'object' &&
        x !== null &&
        isPlainObject(x) &&
        isShared(x) &&
        !ids.has(x) &&
        !isPattern(x)
      ) {
        const elementId = newId(x);
        const fields = encodeFields(x);
        if (fields === x) {
          sharedIds ??= new Array(v.length).fill(absent);
          sharedIds[i] = elementId;
          e = x;
        } else e = { [tag]: 'o', i: elementId, v: fields };
      } else e = encode(x);
      if (e !== x) out ??= v.slice(0, i);
      out?.push(e);
    }
    return { items: out ?? v, sharedIds };
  };

  const encodeArray = (v: readonly unknown[], id: number | undefined): unknown => {
    // A long list of strings (the sorted versions) by string id: one string per distinct spelling.
    if (v.length >= tableMin && v.every((x) => typeof x === 'string'))
      return { [tag]: 'as', i: id, v: pack((v as string[]).map(encodeString)) };
    const { items, sharedIds } = encodeElements(v, true);
    return items === v && id === undefined && sharedIds === undefined
      ? v
      : { [tag]: 'a', i: id, v: items, s: sharedIds && pack(sharedIds) };
  };

  const encodeItems = (items: readonly unknown[]): readonly unknown[] =>
    encodeElements(items, false).items;

  const encodeMap = (v: Map<unknown, unknown>, id: number | undefined): unknown => {
    const keys = [...v.keys()];
    const values = [...v.values()];
    const stringKeys = keys.every((k) => typeof k === 'string');
    const k = stringKeys
      ? { ks: pack((keys as string[]).map(encodeString)) }
      : { k: encodeItems(keys) };
    if (values.length > 0 && values.every((x) => Array.isArray(x) && !isShared(x))) {
      const rows = (values as unknown[][]).flat();
      const lengths = (values as unknown[][]).map((x) => x.length);
      return { [tag]: 'ma', i: id, ...k, n: pack(lengths), v: encode(rows) };
    }
    const encoded = encodeItems(values);
    if (encoded.length > 0 && encoded.every((e, i) => e !== values[i] && isRef(e)))
      return { [tag]: 'm', i: id, ...k, r: pack(encoded.map((e) => (e as { i: number }).i)) };
    return { [tag]: 'm', i: id, ...k, v: encoded };
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
    const kinds: (ColumnKind | undefined)[] = keys.map(() => undefined);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (typeof row !== 'object' || row === null || !isPlainObject(row)) return undefined;
      if (isShared(row) || isPattern(row)) return undefined;
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
        let kind: ColumnKind;
        if (typeof x === 'string') kind = 's';
        else if (typeof x === 'number' || typeof x === 'boolean') kind = 'v';
        else if (typeof x === 'object' && x !== null && isPattern(x)) kind = 'p';
        else return undefined;
        if (kinds[c] !== undefined && kinds[c] !== kind) return undefined;
        kinds[c] = kind;
        column[r] = x;
      }
    }
    for (const key of keys) if (key === '__proto__' || key === tag) throw new NotStorable(key);
    for (let c = 0; c < keys.length; c++) {
      const column = columns[c] as unknown[];
      const kind = kinds[c];
      for (let r = 0; r < column.length; r++) {
        const x = column[r];
        if (x === null) continue;
        if (kind === 's') column[r] = encodeString(x as string);
        else if (kind === 'p') column[r] = encodePattern(x as VersionPattern);
        else column[r] = encode(x);
      }
    }
    const packed = columns.map((column, c) => {
      let kind = kinds[c] ?? 'v';
      if (kind === 'v' && column.every((x) => x === null || isIndex(x))) kind = 'u';
      kinds[c] = kind;
      return kind === 'v' ? column : pack(column.map((x) => (x === null ? absent : (x as number))));
    });
    return { [tag]: 't', k: keys, c: packed, ck: kinds };
  };

  snapshot.t = encode(value);
  snapshot.p = pack(patternList);
  return JSON.stringify(snapshot);
}

function isRef(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as Record<string, unknown>)[tag] === 'r';
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
  if (snapshot.e !== endianness()) throw new Error('a catalog snapshot of another byte order');
  const strings = snapshot.s;
  const patternList = unpack(snapshot.p);
  const patterns: VersionPattern[] = new Array(patternList.length / 2);
  for (let i = 0; i < patterns.length; i++) {
    const exact = patternList[2 * i + 1] as number;
    patterns[i] = pattern(
      strings[patternList[2 * i] as number] as string,
      exact === absent ? undefined : strings[exact],
    );
  }
  const objects: unknown[] = [];
  const at = <T>(id: number | undefined, value: T): T => {
    if (id !== undefined) objects[id] = value;
    return value;
  };
  const mapKeys = (node: Record<string, unknown>): unknown[] =>
    node.ks !== undefined
      ? Array.from(unpack(node.ks), (n) => strings[n])
      : (node.k as unknown[]).map(decode);

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
        for (const k in v) {
          const x = v[k];
          if (isTable(x)) defineLazily(out, k, () => decodeTable(x, patterns, strings));
          else out[k] = decode(x);
        }
        return out;
      }
      case 'a': {
        const items = node.v as unknown[];
        const shared = node.s === undefined ? undefined : unpack(node.s);
        const out = at(id, new Array(items.length));
        for (let i = 0; i < items.length; i++) {
          const sharedId = shared?.[i] ?? absent;
          if (sharedId === absent) out[i] = decode(items[i]);
          else out[i] = objects[sharedId] = items[i];
        }
        return out;
      }
      case 'as':
        return at(
          id,
          Array.from(unpack(node.v), (n) => strings[n]),
        );
      case 'm': {
        const out = at(id, new Map());
        // Keys first, then values: the order in which the encoder gave ids.
        const keys = mapKeys(node);
        if (node.r !== undefined) {
          const refs = unpack(node.r);
          for (let i = 0; i < keys.length; i++) out.set(keys[i], objects[refs[i] as number]);
        } else {
          const values = node.v as unknown[];
          for (let i = 0; i < keys.length; i++) out.set(keys[i], decode(values[i]));
        }
        return out;
      }
      case 'ma': {
        const out = at(id, new Map());
        const keys = mapKeys(node);
        const lengths = unpack(node.n);
        const rows = decode(node.v) as unknown[];
        let start = 0;
        for (let i = 0; i < keys.length; i++) {
          const end = start + (lengths[i] as number);
          out.set(keys[i], rows.slice(start, end));
          start = end;
        }
        return out;
      }
      case 'S': {
        const out = at(id, new Set());
        for (const x of node.v as unknown[]) out.add(decode(x));
        return out;
      }
      case 't':
        return decodeTable(node, patterns, strings);
      default:
        throw new Error(`not a catalog snapshot: node kind ${String(kind)}`);
    }
  };
  return decode(snapshot.t);
}

function decodeTable(
  node: Record<string, unknown>,
  patterns: readonly VersionPattern[],
  strings: readonly string[],
): unknown[] {
  const keys = node.k as string[];
  const kinds = node.ck as ColumnKind[];
  const columns = (node.c as unknown[]).map((c, i) =>
    kinds[i] === 'v' ? (c as unknown[]) : unpack(c),
  );
  const length = columns[0]?.length ?? 0;
  const rows = new Array(length);
  for (let r = 0; r < length; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < keys.length; c++) {
      const kind = kinds[c];
      const x = (columns[c] as ArrayLike<unknown>)[r];
      if (kind === 'v' ? x === null : x === absent) continue;
      row[keys[c] as string] =
        kind === 's' ? strings[x as number] : kind === 'p' ? patterns[x as number] : x;
    }
    rows[r] = row;
  }
  return rows;
}

function isTable(e: unknown): e is Record<string, unknown> {
  return typeof e === 'object' && e !== null && (e as Record<string, unknown>)[tag] === 't';
}

/**
 * A field whose rows are built on first read: the catalog's own list of 50,000 edges is not read
 * once the rules have indexed them (`edgesFrom`), and building it and keeping it through the young
 * generation's collections is a good part of a cached load. The first read or write turns it into
 * an ordinary field.
 */
function defineLazily(target: Record<string, unknown>, key: string, build: () => unknown): void {
  const settle = (value: unknown) =>
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  Object.defineProperty(target, key, {
    get: () => {
      const value = build();
      settle(value);
      return value;
    },
    set: settle,
    enumerable: true,
    configurable: true,
  });
}
