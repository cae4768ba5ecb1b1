import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { canonicalJson } from './canonical-json.ts';

// The `canonicalize` package (RFC 8785's reference for JavaScript) is the oracle.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

const pieces = [
  'a',
  'Z',
  '10',
  '2',
  'é',
  '€',
  '😀',
  '\ud800',
  '\udfff',
  '"',
  '\\',
  '\n',
  '\u0000',
  '\u001f',
  '\u007f',
  ' ',
  'release',
  '5.3.0 Patch 14',
];
const numbers = [0, -0, 1, -1, 0.1 + 0.2, 1e21, 1e-7, 123456789012345680000, 5e-324, 2 ** 53, -1.5];

function value(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const text = () =>
    Array.from({ length: Math.floor(next() * 4) }, () => pick(pieces)).join('') || pick(pieces);
  const kind = depth > 3 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  switch (kind) {
    case 0:
      return text();
    case 1:
      return pick(numbers);
    case 2:
      return pick([true, false, null]);
    case 3:
      return next() < 0.5 ? text() : pick(numbers);
    case 4:
      return Array.from({ length: Math.floor(next() * 5) }, () => value(next, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 6); i > 0; i--) o[text()] = value(next, depth + 1);
      if (next() < 0.2) o.skipped = undefined;
      return o;
    }
  }
}

describe('canonicalJson', () => {
  it('writes what the RFC 8785 reference writes, for 2,000 generated values', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const v = value(createRandom(seed), 0);
      expect(canonicalJson(v), `seed ${seed}`).toBe(canonicalize(v));
    }
  });

  it('sorts keys by UTF-16 code units, whatever order they were built in', () => {
    const a = canonicalJson({ b: 1, a: [{ z: true, '€': null, '😀': 'x', '10': 2, '2': 3 }] });
    const b = canonicalJson({ a: [{ '2': 3, '10': 2, '😀': 'x', '€': null, z: true }], b: 1 });

    expect(a).toBe(b);
    expect(a).toBe('{"a":[{"10":2,"2":3,"z":true,"€":null,"😀":"x"}],"b":1}');
  });

  it('leaves out undefined properties, writes null for undefined items, and calls toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('escapes quotes, backslashes, control characters and lone surrogates as JSON.stringify does', () => {
    expect(canonicalJson('a"b\\c\n\u0001\ud800')).toBe('"a\\"b\\\\c\\n\\u0001\\ud800"');
    expect(canonicalJson('€😀')).toBe('"€😀"');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
  ])('refuses %s', (_name, v) => {
    expect(() => canonicalJson({ v: [v] })).toThrow(TypeError);
  });

  it('refuses undefined as the whole value', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
