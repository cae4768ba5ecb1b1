import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultShape, generateCatalog } from '../../bench/generate-catalog.ts';
import { loadYamlFast } from './fast-load.ts';
import { parseYaml } from './positions.ts';

/*
 * The fast loader (js-yaml) must give exactly what the positioned parser (yaml@2, YAML 1.2 core
 * schema) gives, or decline (undefined) so that the caller takes the positioned parser.
 */

const root = join(import.meta.dirname, '../..');

/** What the positioned parser gives, or undefined when it refuses the text. */
function positioned(text: string): unknown {
  try {
    return parseYaml(text, 'x.yaml', 'UPLIFT_CATALOG_YAML').doc.toJS();
  } catch {
    return undefined;
  }
}

function catalogFiles(): string[] {
  const profiles = readdirSync(join(root, 'profiles')).map((p) =>
    join(root, 'profiles', p, 'catalog.yaml'),
  );
  const fixtures = readdirSync(join(root, 'test/fixtures'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml') && (f.includes('catalog') || f.startsWith('broken-')))
    .map((f) => join(root, 'test/fixtures', f));
  return [...profiles, ...fixtures];
}

describe('the fast YAML loader', () => {
  it.each(catalogFiles().map((f) => [f.slice(root.length + 1), f]))(
    'gives what the positioned parser gives for %s',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');

      const fast = loadYamlFast(text);
      const slow = positioned(text);

      if (slow === undefined) expect(fast).toBeUndefined();
      else expect(fast).toEqual(slow);
      if (!file.includes('bad-yaml')) expect(fast).not.toBeUndefined();
    },
  );

  it('gives what the positioned parser gives for a generated catalog', () => {
    const { text } = generateCatalog({
      ...defaultShape,
      majors: 3,
      minorsPerMajor: 3,
      patchesPerMinor: 8,
      edges: 300,
      maxEdgeSpan: 20,
    });

    const fast = loadYamlFast(text);

    expect(fast).not.toBeUndefined();
    expect(fast).toEqual(positioned(text));
  });

  // Each value as it comes out of `v: <text>`; `taken` says the fast loader must not decline it.
  it.each`
    text                      | value                       | taken
    ${'1_000'}                | ${'1_000'}                  | ${true}
    ${'0b1'}                  | ${'0b1'}                    | ${true}
    ${'2024-01-01'}           | ${'2024-01-01'}             | ${true}
    ${'2024-01-01T10:00:00Z'} | ${'2024-01-01T10:00:00Z'}   | ${true}
    ${'~'}                    | ${null}                     | ${true}
    ${'null'}                 | ${null}                     | ${true}
    ${'Null'}                 | ${null}                     | ${true}
    ${'nUll'}                 | ${'nUll'}                   | ${true}
    ${''}                     | ${null}                     | ${true}
    ${'.inf'}                 | ${Number.POSITIVE_INFINITY} | ${true}
    ${'-.Inf'}                | ${Number.NEGATIVE_INFINITY} | ${true}
    ${'.NaN'}                 | ${Number.NaN}               | ${true}
    ${'-.nan'}                | ${'-.nan'}                  | ${true}
    ${'0o17'}                 | ${15}                       | ${true}
    ${'-0o17'}                | ${'-0o17'}                  | ${true}
    ${'0x1F'}                 | ${31}                       | ${true}
    ${'-0x1F'}                | ${'-0x1F'}                  | ${true}
    ${'012'}                  | ${12}                       | ${true}
    ${'+12'}                  | ${12}                       | ${true}
    ${'-0'}                   | ${-0}                       | ${true}
    ${'1e3'}                  | ${1000}                     | ${true}
    ${'1.'}                   | ${1}                        | ${true}
    ${'.5'}                   | ${0.5}                      | ${true}
    ${'-1.5E+3'}              | ${-1500}                    | ${true}
    ${'1:30'}                 | ${'1:30'}                   | ${true}
    ${'9'.repeat(400)}        | ${Number.POSITIVE_INFINITY} | ${true}
    ${'1e400'}                | ${Number.POSITIVE_INFINITY} | ${true}
    ${'12345678901234567890'} | ${12345678901234567000}     | ${true}
    ${'yes'}                  | ${'yes'}                    | ${true}
    ${'no'}                   | ${'no'}                     | ${true}
    ${'on'}                   | ${'on'}                     | ${true}
    ${'y'}                    | ${'y'}                      | ${true}
    ${'True'}                 | ${true}                     | ${true}
    ${'FALSE'}                | ${false}                    | ${true}
    ${'tRue'}                 | ${'tRue'}                   | ${true}
    ${'5.10'}                 | ${5.1}                      | ${true}
    ${'"5.10"'}               | ${'5.10'}                   | ${true}
    ${"'5.10'"}               | ${'5.10'}                   | ${true}
    ${'5.10.1'}               | ${'5.10.1'}                 | ${true}
    ${'5.4 Patch 2'}          | ${'5.4 Patch 2'}            | ${true}
    ${'a #b'}                 | ${'a'}                      | ${true}
    ${'a#b'}                  | ${'a#b'}                    | ${true}
    ${'"\\u00e9\\t\\x41"'}    | ${'é\tA'}                   | ${true}
    ${"'it''s'"}              | ${"it's"}                   | ${true}
    ${'!!str 12'}             | ${'12'}                     | ${false}
    ${'!!int "12"'}           | ${12}                       | ${false}
    ${'! 12'}                 | ${'12'}                     | ${false}
    ${'!!binary aGk='}        | ${undefined}                | ${false}
  `('v: $text', ({ text, value, taken }) => {
    const doc = `v: ${text}\n`;

    const fast = loadYamlFast(doc);
    const slow = positioned(doc);

    if (taken) expect(fast).toEqual({ v: value });
    if (fast !== undefined) expect(fast).toEqual(slow);
    if (value !== undefined) expect(slow).toEqual({ v: value });
  });

  it.each([
    ['a merge key', 'a: &a { x: 1 }\nb: { <<: *a, y: 2 }\n'],
    ['an alias', 'a: &a [1, 2]\nb: *a\n'],
    ['a YAML 1.1 directive', '%YAML 1.1\n---\nv: yes\nw: 0b1\n'],
    ['a YAML 1.2 directive', '%YAML 1.2\n---\nv: yes\n'],
    ['a tag directive', '%TAG !e! tag:example.com,2000:\n---\nv: !e!x 1\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['a number as key', '1: a\n'],
    ['a null key', '~: a\n'],
    ['a boolean key', 'true: a\n'],
    ['a sequence as key', '? [a, b]\n: c\n'],
    ['a __proto__ key', '__proto__: { polluted: true }\n'],
    ['a tab as indentation', 'a:\n\tb: 1\n'],
    ['an unclosed flow sequence', 'a: [1, 2\n'],
    ['an empty text', ''],
    ['a comment only', '# nothing\n'],
  ])('declines or agrees on %s', (_name, text) => {
    const fast = loadYamlFast(text);

    const slow = positioned(text);

    if (fast !== undefined) expect(fast).toEqual(slow);
    if (slow === undefined) expect(fast).toBeUndefined();
  });

  it('declines the forms whose meaning depends on the parser', () => {
    expect(loadYamlFast('a: &a { x: 1 }\nb: { <<: *a }\n')).toBeUndefined();
    expect(loadYamlFast('%YAML 1.1\n---\nv: yes\n')).toBeUndefined();
    expect(loadYamlFast('v: !!str 12\n')).toBeUndefined();
    expect(loadYamlFast('1: a\n')).toBeUndefined();
  });

  it('agrees on a merge key without an alias: a plain key in YAML 1.2', () => {
    const text = 'a: { <<: { x: 1 }, y: 2 }\n';

    expect(loadYamlFast(text)).toEqual({ a: { '<<': { x: 1 }, y: 2 } });
    expect(positioned(text)).toEqual({ a: { '<<': { x: 1 }, y: 2 } });
  });

  it('agrees on block scalars, folding, line ends and a byte order mark', () => {
    const lines = [
      'literal: |',
      '  one',
      '    two',
      '',
      '  three',
      'folded: >-',
      '  a',
      '  b',
      '',
      '  c',
      '    indented',
      '  d',
      'kept: |+',
      '  x',
      '',
      'stripped: |-',
      '  y',
      'indicator: |2',
      '    four spaces',
      'plain: a',
      '  b',
      '  c',
      'quoted: "a',
      '  b\\',
      '  c \\u00e9"',
      "single: 'x",
      '',
      "  y'",
      'flow: { a: [1, two, { c: d }, ], \'k k\': "v" }',
      'unicode: ünïcödé ✓',
      'tab: "a\tb"',
    ];
    const text = `\uFEFF${lines.join('\n')}\n`;

    const fast = loadYamlFast(text);

    expect(fast).not.toBeUndefined();
    expect(fast).toEqual(positioned(text));
    expect(loadYamlFast(text.replaceAll('\n', '\r\n'))).toEqual(
      positioned(text.replaceAll('\n', '\r\n')),
    );
  });
});
