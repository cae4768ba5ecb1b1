import { describe, expect, it } from 'vitest';
import { compareDotted, evaluateRule, type Truth } from './evaluate.ts';
import type { Rule } from './schema.ts';

/** One rule per truth value, over the facts below: `t` is true, `f` false, `u` unknown. */
const facts = { yes: true, no: false };
const leaf: Record<string, Rule> = {
  t: { fact: 'yes', equals: true },
  f: { fact: 'no', equals: true },
  u: { fact: 'absent', equals: true },
};
const value: Record<string, Truth> = { t: true, f: false, u: 'unknown' };

function rule(name: string): Rule {
  const r = leaf[name];
  if (!r) throw new Error(`no leaf rule ${name}`);
  return r;
}

describe('evaluateRule', () => {
  describe('three-valued logic (Kleene)', () => {
    it.each`
      a      | b      | all          | any
      ${'t'} | ${'t'} | ${true}      | ${true}
      ${'t'} | ${'f'} | ${false}     | ${true}
      ${'t'} | ${'u'} | ${'unknown'} | ${true}
      ${'f'} | ${'t'} | ${false}     | ${true}
      ${'f'} | ${'f'} | ${false}     | ${false}
      ${'f'} | ${'u'} | ${false}     | ${'unknown'}
      ${'u'} | ${'t'} | ${'unknown'} | ${true}
      ${'u'} | ${'f'} | ${false}     | ${'unknown'}
      ${'u'} | ${'u'} | ${'unknown'} | ${'unknown'}
    `('$a and $b = $all; $a or $b = $any', ({ a, b, all, any }) => {
      const rules = [rule(a), rule(b)];

      const conj = evaluateRule({ all: rules }, facts);
      const disj = evaluateRule({ any: rules }, facts);

      expect(conj.value).toBe(all);
      expect(disj.value).toBe(any);
    });

    it.each`
      a      | not
      ${'t'} | ${false}
      ${'f'} | ${true}
      ${'u'} | ${'unknown'}
    `('not $a = $not', ({ a, not }) => {
      const outcome = evaluateRule({ not: rule(a) }, facts);

      expect(outcome.value).toBe(not);
    });

    it.each(['t', 'f', 'u'])('a single rule %s in all/any keeps its value', (a) => {
      const expected = value[a];

      expect(evaluateRule({ all: [rule(a)] }, facts).value).toBe(expected);
      expect(evaluateRule({ any: [rule(a)] }, facts).value).toBe(expected);
      expect(evaluateRule({ not: { not: rule(a) } }, facts).value).toBe(expected);
    });
  });

  describe('operators', () => {
    it.each`
      rule                                              | facts                              | expected
      ${{ fact: 'db.type', equals: 'postgresql' }}      | ${{ db: { type: 'postgresql' } }}  | ${true}
      ${{ fact: 'db.type', equals: 'postgresql' }}      | ${{ db: { type: 'PostgreSQL' } }}  | ${true}
      ${{ fact: 'db.type', equals: 'postgresql' }}      | ${{ db: { type: 'oracle' } }}      | ${false}
      ${{ fact: 'flag', equals: true }}                 | ${{ flag: 'true' }}                | ${true}
      ${{ fact: 'flag', equals: 'true' }}               | ${{ flag: true }}                  | ${true}
      ${{ fact: 'flag', equals: true }}                 | ${{ flag: 'TRUE' }}                | ${true}
      ${{ fact: 'flag', equals: false }}                | ${{ flag: 'false' }}               | ${true}
      ${{ fact: 'flag', equals: true }}                 | ${{ flag: 'yes' }}                 | ${false}
      ${{ fact: 'n', equals: 12 }}                      | ${{ n: '12' }}                     | ${true}
      ${{ fact: 'n', equals: '12' }}                    | ${{ n: 12 }}                       | ${true}
      ${{ fact: 'n', equals: 12 }}                      | ${{ n: { value: 12 } }}            | ${false}
      ${{ fact: 'flag', notEquals: true }}              | ${{ flag: false }}                 | ${true}
      ${{ fact: 'flag', notEquals: true }}              | ${{ flag: 'true' }}                | ${false}
      ${{ fact: 'os', in: ['aix', 'linux'] }}           | ${{ os: 'Linux' }}                 | ${true}
      ${{ fact: 'os', in: ['aix', 'linux'] }}           | ${{ os: 'windows' }}               | ${false}
      ${{ fact: 'port', in: [80, 443] }}                | ${{ port: '443' }}                 | ${true}
      ${{ fact: 'os', exists: true }}                   | ${{ os: 'linux' }}                 | ${true}
      ${{ fact: 'os', exists: true }}                   | ${{}}                              | ${false}
      ${{ fact: 'os', exists: false }}                  | ${{}}                              | ${true}
      ${{ fact: 'os', exists: false }}                  | ${{ os: null }}                    | ${true}
      ${{ fact: 'os', exists: false }}                  | ${{ os: false }}                   | ${false}
      ${{ fact: 'rows', gt: 5000000 }}                  | ${{ rows: 5000001 }}               | ${true}
      ${{ fact: 'rows', gt: 5000000 }}                  | ${{ rows: 5000000 }}               | ${false}
      ${{ fact: 'rows', gt: 5000000 }}                  | ${{ rows: '6000000' }}             | ${true}
      ${{ fact: 'rows', gt: 5 }}                        | ${{ rows: 'many' }}                | ${false}
      ${{ fact: 'rows', lt: 5 }}                        | ${{ rows: 'many' }}                | ${false}
      ${{ fact: 'rows', gte: 5 }}                       | ${{ rows: 5 }}                     | ${true}
      ${{ fact: 'rows', gte: 5 }}                       | ${{ rows: 4 }}                     | ${false}
      ${{ fact: 'rows', lt: 5 }}                        | ${{ rows: 4 }}                     | ${true}
      ${{ fact: 'rows', lt: 5 }}                        | ${{ rows: 5 }}                     | ${false}
      ${{ fact: 'rows', lte: 5 }}                       | ${{ rows: 5 }}                     | ${true}
      ${{ fact: 'rows', lte: 5 }}                       | ${{ rows: 6 }}                     | ${false}
      ${{ fact: 'db.version', versionAtLeast: '12' }}   | ${{ db: { version: '12.4' } }}     | ${true}
      ${{ fact: 'db.version', versionAtLeast: '12' }}   | ${{ db: { version: '9.6' } }}      | ${false}
      ${{ fact: 'db.version', versionAtLeast: '12.2' }} | ${{ db: { version: '19c' } }}      | ${true}
      ${{ fact: 'db.version', versionAtLeast: '12.2' }} | ${{ db: { version: '12.1.0.2' } }} | ${false}
      ${{ fact: 'db.version', versionAtLeast: '12' }}   | ${{ db: { version: 12 } }}         | ${true}
      ${{ fact: 'db.version', versionBelow: '12.2' }}   | ${{ db: { version: '12.1.0.2' } }} | ${true}
      ${{ fact: 'db.version', versionBelow: '12.2' }}   | ${{ db: { version: '12.2.0' } }}   | ${false}
      ${{ fact: 'host', matches: '^srv-[0-9]+$' }}      | ${{ host: 'srv-12' }}              | ${true}
      ${{ fact: 'host', matches: '^srv-[0-9]+$' }}      | ${{ host: 'srv-12.example' }}      | ${false}
      ${{ fact: 'host', matches: 'srv' }}               | ${{ host: 'old-srv-1' }}           | ${true}
      ${{ fact: 'port', matches: '^80$' }}              | ${{ port: 80 }}                    | ${true}
      ${{ fact: 'modules', contains: 'ldap' }}          | ${{ modules: ['http', 'LDAP'] }}   | ${true}
      ${{ fact: 'modules', contains: 'ftp' }}           | ${{ modules: ['http', 'ldap'] }}   | ${false}
      ${{ fact: 'ports', contains: 22 }}                | ${{ ports: ['22', '80'] }}         | ${true}
      ${{ fact: 'path', contains: 'hist' }}             | ${{ path: 'var/db/hist' }}         | ${true}
      ${{ fact: 'path', contains: 'HIST' }}             | ${{ path: 'var/db/hist' }}         | ${false}
      ${{ fact: 'count', contains: 1 }}                 | ${{ count: 12 }}                   | ${false}
    `('$rule on $facts is $expected', ({ rule, facts, expected }) => {
      const outcome = evaluateRule(rule, facts);

      expect(outcome.value).toBe(expected);
      expect(outcome.missing).toEqual([]);
    });

    it.each`
      operator            | operand
      ${'equals'}         | ${true}
      ${'notEquals'}      | ${true}
      ${'in'}             | ${['a']}
      ${'gt'}             | ${1}
      ${'gte'}            | ${1}
      ${'lt'}             | ${1}
      ${'lte'}            | ${1}
      ${'versionAtLeast'} | ${'12'}
      ${'versionBelow'}   | ${'12'}
      ${'matches'}        | ${'.*'}
      ${'contains'}       | ${'a'}
    `('$operator on a missing fact is unknown and names the fact', ({ operator, operand }) => {
      const r = { fact: 'database.version', [operator]: operand } as Rule;

      const absent = evaluateRule(r, { database: {} });
      const nulled = evaluateRule(r, { database: { version: null } });

      expect(absent).toEqual({ value: 'unknown', missing: ['database.version'], used: {} });
      expect(nulled).toEqual({ value: 'unknown', missing: ['database.version'], used: {} });
    });
  });

  describe('missing facts and evidence', () => {
    it('lists every missing fact of an unknown outcome, sorted and once each', () => {
      const r: Rule = {
        all: [
          { fact: 'network.proxyConfigured', equals: true },
          { fact: 'settings.Direct.Connection.When.Proxy.Down', notEquals: true },
          { any: [{ fact: 'data.rows', gt: 1 }, { not: { fact: 'data.rows', lt: 0 } }] },
        ],
      };

      const outcome = evaluateRule(r, { network: { proxyConfigured: 'true' } });

      expect(outcome).toEqual({
        value: 'unknown',
        missing: ['data.rows', 'settings.Direct.Connection.When.Proxy.Down'],
        used: { 'network.proxyConfigured': 'true' },
      });
    });

    it('reports no missing facts when the outcome is known despite a missing fact', () => {
      const r: Rule = {
        any: [
          { fact: 'absent', equals: 1 },
          { fact: 'yes', equals: true },
        ],
      };

      const outcome = evaluateRule(r, facts);

      expect(outcome.value).toBe(true);
      expect(outcome.missing).toEqual([]);
      expect(outcome.used).toEqual({ yes: true });
    });

    it('records the facts it read with their values as evidence', () => {
      const r: Rule = {
        all: [
          { fact: 'database.type', equals: 'oracle' },
          { fact: 'database.version', versionAtLeast: '12.2' },
        ],
      };

      const outcome = evaluateRule(r, { database: { type: 'Oracle', version: '19c' } });

      expect(outcome).toEqual({
        value: true,
        missing: [],
        used: { 'database.type': 'Oracle', 'database.version': '19c' },
      });
    });

    it('does not count exists as evidence or as a missing fact', () => {
      const outcome = evaluateRule({ fact: 'absent', exists: false }, facts);

      expect(outcome).toEqual({ value: true, missing: [], used: {} });
    });

    it.each`
      settings                                                            | expected
      ${{ 'Direct.Connection.When.Proxy.Down': false }}                   | ${true}
      ${{ 'Direct.Connection.When.Proxy.Down': 'true' }}                  | ${false}
      ${{ Direct: { Connection: { When: { Proxy: { Down: false } } } } }} | ${true}
      ${{ Direct: { Connection: { When: { Proxy: { Down: true } } } } }}  | ${false}
      ${{}}                                                               | ${'unknown'}
    `(
      'reads the dotted key settings.Direct.Connection.When.Proxy.Down in $settings',
      ({ settings, expected }) => {
        const r: Rule = { fact: 'settings.Direct.Connection.When.Proxy.Down', notEquals: true };

        const outcome = evaluateRule(r, { settings });

        expect(outcome.value).toBe(expected);
        if (expected !== 'unknown') {
          expect(Object.keys(outcome.used)).toEqual(['settings.Direct.Connection.When.Proxy.Down']);
        }
      },
    );
  });
});

describe('compareDotted', () => {
  it.each`
    a              | b
    ${'12.1.0.2'}  | ${'12.2'}
    ${'9.6'}       | ${'12'}
    ${'12.2'}      | ${'19c'}
    ${'12'}        | ${'12.0.1'}
    ${'v1.9'}      | ${'1.10'}
    ${'not a ver'} | ${'0.1'}
  `('$a < $b', ({ a, b }) => {
    expect(compareDotted(a, b)).toBeLessThan(0);
    expect(compareDotted(b, a)).toBeGreaterThan(0);
  });

  it.each`
    a              | b
    ${'12'}        | ${'12.0'}
    ${'19c'}       | ${'19'}
    ${'v2.4'}      | ${'2.4.0'}
    ${' 15.4 LTS'} | ${'15.4'}
    ${'abc'}       | ${''}
  `('$a = $b', ({ a, b }) => {
    expect(compareDotted(a, b)).toBe(0);
    expect(compareDotted(b, a)).toBe(0);
  });

  it('orders 19c at or above 12.2', () => {
    expect(compareDotted('19c', '12.2')).toBeGreaterThanOrEqual(0);
  });
});
