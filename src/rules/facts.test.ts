import { describe, expect, it } from 'vitest';
import { lookupFact } from './facts.ts';

describe('lookupFact', () => {
  it.each`
    path                                            | facts                                                                            | value
    ${'version'}                                    | ${{ version: '5.4 GA' }}                                                         | ${'5.4 GA'}
    ${'data.rows'}                                  | ${{ data: { rows: 184000 } }}                                                    | ${184000}
    ${'flag'}                                       | ${{ flag: false }}                                                               | ${false}
    ${'count'}                                      | ${{ count: 0 }}                                                                  | ${0}
    ${'name'}                                       | ${{ name: '' }}                                                                  | ${''}
    ${'settings.Direct.Connection.When.Proxy.Down'} | ${{ settings: { 'Direct.Connection.When.Proxy.Down': false } }}                  | ${false}
    ${'settings.Direct.Connection.When.Proxy.Down'} | ${{ settings: { Direct: { Connection: { When: { Proxy: { Down: true } } } } } }} | ${true}
    ${'settings.Direct.Connection.When.Proxy.Down'} | ${{ settings: { 'Direct.Connection': { 'When.Proxy.Down': 'yes' } } }}           | ${'yes'}
    ${'a.b.c'}                                      | ${{ 'a.b.c': 1 }}                                                                | ${1}
    ${'a.b.c'}                                      | ${{ a: { 'b.c': 'longest', b: { c: 'shorter' } } }}                              | ${'longest'}
    ${'a.b.c.d'}                                    | ${{ a: { 'b.c': { x: 1 }, b: { c: { d: 'fallback' } } } }}                       | ${'fallback'}
    ${'a.b'}                                        | ${{ a: { b: null, 'b.c': 1 } }}                                                  | ${undefined}
    ${'os.packages'}                                | ${{ os: { packages: ['libc', 'java'] } }}                                        | ${['libc', 'java']}
  `('$path in $facts is $value', ({ path, facts, value }) => {
    const found = lookupFact(facts, path);

    if (value === undefined) expect(found).toEqual({ found: false });
    else expect(found).toEqual({ found: true, value });
  });

  it.each`
    path           | facts
    ${'missing'}   | ${{ version: '5.4' }}
    ${'data.rows'} | ${{ data: {} }}
    ${'data.rows'} | ${{ data: 'text' }}
    ${'data.rows'} | ${{ data: null }}
    ${'data'}      | ${{ data: null }}
    ${'data'}      | ${{ data: undefined }}
    ${'list.0'}    | ${{ list: ['first'] }}
    ${'a.b'}       | ${{ 'a.b.c': 1 }}
    ${'toString'}  | ${{}}
    ${'x'}         | ${null}
    ${'x'}         | ${'facts'}
  `('$path is missing from $facts', ({ path, facts }) => {
    const found = lookupFact(facts, path);

    expect(found).toEqual({ found: false });
  });
});
