import { describe, expect, it } from 'vitest';
import { getScheme } from '../versioning/index.ts';
import { decodeSnapshot, encodeSnapshot, NotStorable } from './snapshot.ts';
import { compilePattern, type VersionPattern } from './version-pattern.ts';

const scheme = getScheme('semver');

function pattern(source: string): VersionPattern {
  const p = compilePattern(source, scheme);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

function roundTrip(value: unknown): unknown {
  return decodeSnapshot(encodeSnapshot(value), (source) => pattern(source));
}

describe('a catalog snapshot', () => {
  it('gives back Maps, Sets, nested data and the sharing of objects', () => {
    const release = { version: '1.0.0', packs: [{ file: 'a.pkg', size: 1 }] };
    const pack = release.packs[0] as object;
    const value = {
      list: [release],
      byVersion: new Map([['1.0.0', release]]),
      packFrom: new Map([[pack, 'x']]),
      ids: new Set(['a', 'b']),
      plain: { a: [1, 'two', true, null, { b: 2.5 }] },
    };

    const back = roundTrip(value) as typeof value;

    expect(back).toEqual(value);
    expect(back.byVersion.get('1.0.0')).toBe(back.list[0]);
    expect([...back.packFrom.keys()][0]).toBe(back.list[0]?.packs[0]);
  });

  it('gives back long arrays of one shape, stored by column, with absent fields absent', () => {
    const edges = Array.from({ length: 100 }, (_, i) => ({
      from: `1.0.${i}`,
      to: `1.1.${i}`,
      downtimeMinutes: i % 3 === 0 ? undefined : i,
    }));

    const back = roundTrip({ edges }) as { edges: typeof edges };

    expect(back.edges).toEqual(edges);
    expect(back.edges[3]).not.toHaveProperty('downtimeMinutes');
  });

  it('gives back a long list of strings, and the same list reached twice', () => {
    const versions = Array.from({ length: 30 }, (_, i) => `1.${i}.0`);

    const back = roundTrip({ versions, again: versions }) as {
      versions: string[];
      again: string[];
    };

    expect(back.versions).toEqual(versions);
    expect(back.again).toBe(back.versions);
  });

  it('tells an absent field from any number in a column', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({
      n: i === 0 ? 0xffffffff : i === 1 ? undefined : i + 0.5,
      index: i === 2 ? undefined : i === 3 ? 0xfffffffe : i,
      flag: i % 2 === 0,
    }));

    const back = roundTrip({ rows }) as { rows: typeof rows };

    expect(back.rows).toEqual(rows);
    expect(back.rows[0]?.n).toBe(0xffffffff);
    expect(back.rows[1]).not.toHaveProperty('n');
    expect(back.rows[2]).not.toHaveProperty('index');
    expect(back.rows[3]?.index).toBe(0xfffffffe);
  });

  it('stores a pattern by its source, and the same pattern once', () => {
    const p = pattern('>=1.0.0, <2.0.0');
    const edges = new Map([
      ['1.0.0', Array.from({ length: 20 }, (_, i) => ({ from: p, to: `1.${i}.0` }))],
      ['1.5.0', [{ from: p, to: '3.0.0' }]],
    ]);
    const made: string[] = [];

    const back = decodeSnapshot(encodeSnapshot({ edges, one: p }), (source, exact) => {
      made.push(source);
      return { ...pattern(source), exact };
    }) as { edges: typeof edges; one: VersionPattern };

    expect(made).toEqual(['>=1.0.0, <2.0.0']);
    expect(back.edges.get('1.0.0')?.[19]?.from).toBe(back.one);
    expect(back.edges.get('1.5.0')?.[0]).toEqual({ from: back.one, to: '3.0.0' });
    expect(back.one.matches('1.2.0')).toBe(true);
    expect(back.one.matches('2.0.0')).toBe(false);
  });

  it.each([
    ['a function', { f: () => 1 }],
    ['a class instance', { d: new Date(0) }],
    ['undefined in an array', { a: [1, undefined] }],
    ['-0', { n: -0 }],
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
    ['a __proto__ key', JSON.parse('{"__proto__": {"x": 1}}')],
  ])('refuses %s, which JSON would not give back exactly', (_name, value) => {
    expect(() => encodeSnapshot(value)).toThrow(NotStorable);
  });
});
