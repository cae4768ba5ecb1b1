import { describe, expect, it } from 'vitest';
import { evaluateFormula, type Formula, isFormulaError, parseFormula } from './formula.ts';

function parsed(source: string): Formula {
  const f = parseFormula(source);
  if (isFormulaError(f)) throw new Error(`${source}: ${f.message} at ${f.offset}`);
  return f;
}

describe('duration formulas', () => {
  it.each`
    source                                   | facts                                   | seconds
    ${'90'}                                  | ${{}}                                   | ${90}
    ${'10m'}                                 | ${{}}                                   | ${600}
    ${'1.5h + 30s'}                          | ${{}}                                   | ${5430}
    ${'2d'}                                  | ${{}}                                   | ${172800}
    ${'ceil(nodes / max_unavailable) * 10m'} | ${{ nodes: 7, max_unavailable: 2 }}     | ${2400}
    ${'ceil(nodes / max_unavailable) * 10m'} | ${{ nodes: '8', max_unavailable: '2' }} | ${2400}
    ${'min(topology.nodes, 3) * 5m'}         | ${{ topology: { nodes: 12 } }}          | ${900}
    ${'max(60, data.rows / 1000)'}           | ${{ data: { rows: 5000 } }}             | ${60}
    ${'max(60, data.rows / 1000, 2m)'}       | ${{ data: { rows: 500000 } }}           | ${500}
    ${'floor(7 / 2) + round(2.5) - -1'}      | ${{}}                                   | ${7}
    ${'2 + 3 * 4'}                           | ${{}}                                   | ${14}
    ${'(2 + 3) * 4'}                         | ${{}}                                   | ${20}
    ${'settings.Queue.Size / 100'}           | ${{ settings: { 'Queue.Size': 300 } }}  | ${3}
  `('$source over $facts is $seconds s', ({ source, facts, seconds }) => {
    const f = parsed(source);

    const value = evaluateFormula(f, facts);

    expect(value).toEqual({ ok: true, seconds });
  });

  it.each`
    source                     | offset | message
    ${'ceil(nodes / 2'}        | ${14}  | ${'expected ")" at the end'}
    ${'nodes * '}              | ${8}   | ${'expected a number, a fact or "(" at the end'}
    ${'sqrt(nodes)'}           | ${0}   | ${'unknown function "sqrt"'}
    ${'10min'}                 | ${2}   | ${'unknown unit "min"'}
    ${'nodes ^ 2'}             | ${6}   | ${'unexpected "^"'}
    ${'ceil(1, 2)'}            | ${0}   | ${'ceil takes one argument, got 2'}
    ${'eval("1")'}             | ${0}   | ${'unknown function "eval"'}
    ${'nodes; process.exit()'} | ${5}   | ${'unexpected ";"'}
    ${'('.repeat(100)}         | ${64}  | ${'nests too deeply'}
  `('"$source" is refused at character $offset: $message', ({ source, offset, message }) => {
    const f = parseFormula(source);

    expect(isFormulaError(f)).toBe(true);
    expect(f).toMatchObject({ offset });
    expect((f as { message: string }).message).toContain(message);
  });

  it('names the facts a formula reads, and each one that is missing', () => {
    const f = parsed('ceil(nodes / max_unavailable) * 10m + data.rows / 1000');

    expect(f.facts).toEqual(['nodes', 'max_unavailable', 'data.rows']);
    expect(evaluateFormula(f, { nodes: 3, max_unavailable: 'many' })).toEqual({
      ok: false,
      missing: ['max_unavailable', 'data.rows'],
    });
  });

  it('reports a division by zero with its position instead of an infinite estimate', () => {
    const f = parsed('ceil(nodes / max_unavailable) * 10m');

    const value = evaluateFormula(f, { nodes: 3, max_unavailable: 0 });

    expect(value).toEqual({
      ok: false,
      missing: [],
      problem: '"ceil(nodes / max_unavailable) * 10m" at character 12: divides by zero',
    });
  });
});
