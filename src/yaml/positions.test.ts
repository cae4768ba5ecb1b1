import { describe, expect, it } from 'vitest';
import { parseYaml } from './index.ts';

describe('parseYaml points a syntax error at the line and column at fault', () => {
  it.each`
    name                        | text                                 | line | col
    ${'unclosed double quote'}  | ${'a: 1\nb:\n  c: "x\nd: 2\ne: 3\n'} | ${3} | ${6}
    ${'unclosed single quote'}  | ${"a: 1\nb: 'x\nc: 2\n"}             | ${2} | ${4}
    ${'unclosed flow sequence'} | ${'a: 1\nb: [x, y\nc: 2\nd: 3\n'}    | ${2} | ${4}
    ${'unclosed flow mapping'}  | ${'a: 1\nb: {x: 1\nc: 2\n'}          | ${2} | ${4}
    ${'duplicate key'}          | ${'a: 1\na: 2\n'}                    | ${2} | ${1}
    ${'tab as indentation'}     | ${'a: 1\n\tb: 2\nc: 3\n'}            | ${2} | ${1}
  `('$name: line $line, column $col', ({ text, line, col }) => {
    let err: unknown;
    try {
      parseYaml(text, 'facts.yaml', 'UPLIFT_FACTS_INVALID');
    } catch (e) {
      err = e;
    }

    expect(err).toMatchObject({
      code: 'UPLIFT_FACTS_INVALID',
      location: { file: 'facts.yaml', line, col },
    });
  });
});

describe('parseYaml refuses an alias bomb instead of crashing', () => {
  // Ten aliases of ten aliases … nine levels deep: 10^10 values from eleven lines.
  const bomb = [
    'a0: &a0 [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from(
      { length: 9 },
      (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`,
    ),
    'environments: *a9',
    '',
  ].join('\n');

  it('throws the coded error naming the file and the line of the alias at fault', () => {
    let err: unknown;
    try {
      parseYaml(bomb, 'uplift.yaml', 'UPLIFT_TOPOLOGY_INVALID');
    } catch (e) {
      err = e;
    }

    expect(err).toMatchObject({
      code: 'UPLIFT_TOPOLOGY_INVALID',
      location: { file: 'uplift.yaml', line: 4 },
    });
    expect((err as Error).message).toMatch(/^uplift\.yaml cannot be read: .*alias/);
  });

  it('still expands aliases used a few times', () => {
    const y = parseYaml('a: &a [1, 2]\nb: *a\nc: *a\n', 'f.yaml', 'UPLIFT_FACTS_INVALID');

    expect(y.value).toEqual({ a: [1, 2], b: [1, 2], c: [1, 2] });
  });
});
