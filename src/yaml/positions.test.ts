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
