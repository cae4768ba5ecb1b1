import { describe, expect, it } from 'vitest';
import { lookupFact } from '../rules/index.ts';
import { mergeFacts, setFact } from './fact-path.ts';

describe('setFact', () => {
  it.each`
    start                                                           | path                                            | value       | result
    ${{}}                                                           | ${'data.historyFiles'}                          | ${3}        | ${{ data: { historyFiles: 3 } }}
    ${{ data: { a: 1 } }}                                           | ${'data.historyFiles'}                          | ${3}        | ${{ data: { a: 1, historyFiles: 3 } }}
    ${{}}                                                           | ${'version'}                                    | ${'5.4'}    | ${{ version: '5.4' }}
    ${{ settings: { 'proxy.host': 'p' } }}                          | ${'settings.Direct.Connection.When.Proxy.Down'} | ${true}     | ${{ settings: { 'proxy.host': 'p', 'Direct.Connection.When.Proxy.Down': true } }}
    ${{ settings: { 'Direct.Connection.When.Proxy.Down': false } }} | ${'settings.Direct.Connection.When.Proxy.Down'} | ${true}     | ${{ settings: { 'Direct.Connection.When.Proxy.Down': true } }}
    ${{}}                                                           | ${'a.b.c'}                                      | ${1}        | ${{ a: { 'b.c': 1 } }}
    ${{ a: { b: { x: 0 } } }}                                       | ${'a.b.c'}                                      | ${1}        | ${{ a: { b: { x: 0, c: 1 } } }}
    ${{ s: { a: 1 } }}                                              | ${'s'}                                          | ${{ b: 2 }} | ${{ s: { a: 1, b: 2 } }}
    ${{ owner: 'skiff' }}                                           | ${'owner.uid'}                                  | ${0}        | ${{ owner: { uid: 0 } }}
  `('sets $path', ({ start, path, value, result }) => {
    const facts = structuredClone(start);

    setFact(facts, path, value);

    expect(facts).toStrictEqual(result);
    expect(lookupFact(facts, path).found).toBe(true);
  });
});

describe('mergeFacts', () => {
  it('lays mappings over mappings, and replaces lists and scalars', () => {
    const base = { version: '5.3.0 GA', database: { type: 'sqlite', rows: 3 }, list: [1, 2] };
    const over = { database: { type: 'postgresql', version: '15' }, list: [3] };

    expect(mergeFacts(base, over)).toStrictEqual({
      version: '5.3.0 GA',
      database: { type: 'postgresql', rows: 3, version: '15' },
      list: [3],
    });
  });
});
