import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import {
  demoCatalogFile,
  demoHeader,
  parseDemo,
  refusalOf,
} from '../../test/util/demo-catalog-text.ts';

/** Lines 1–8 come from demoHeader; each case's own text starts on line 9. */
const load = (tail: string) => parseDemo(`${demoHeader}\n${tail}`);
const refusal = (tail: string) => refusalOf(() => load(tail));

const tails: Record<string, string> = {
  'a preference outside its list': dedent`
    upgrade:
      prefer: fastest
  `,
  'an unknown field in an edge': dedent`
    upgrade:
      edges:
        - { from: 5.3.0 GA, to: 5.4 GA, whenever: { fact: a, exists: true } }
  `,
  'a bad regular expression in an edge rule': dedent`
    upgrade:
      edges:
        - { from: 5.3.0 GA, to: 5.4 GA, when: { fact: a, matches: "(" } }
  `,
  'an incompatibility with both introducedIn and hops': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, introducedIn: 5.4 GA, hops: { from: "*", to: 5.4 GA }, severity: info, action: a }
  `,
  'an incompatibility with neither introducedIn nor hops': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, severity: info, action: a }
  `,
  'an unreadable hops pattern': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, hops: { from: "*", to: "=>5.4" }, severity: info, action: a }
  `,
  'an unknown field in hops': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, hops: { from: "*", to: 5.4 GA, until: 5.4 GA }, severity: info, action: a }
  `,
};

describe('parseCatalog refuses path rules', () => {
  it.each`
    problem                                                    | line  | col   | path
    ${'a preference outside its list'}                         | ${10} | ${11} | ${'upgrade.prefer'}
    ${'an unknown field in an edge'}                           | ${11} | ${37} | ${'upgrade.edges[0].whenever'}
    ${'a bad regular expression in an edge rule'}              | ${11} | ${63} | ${'upgrade.edges[0].when.matches'}
    ${'an incompatibility with both introducedIn and hops'}    | ${11} | ${5}  | ${'incompatibilities[0]'}
    ${'an incompatibility with neither introducedIn nor hops'} | ${11} | ${5}  | ${'incompatibilities[0]'}
    ${'an unreadable hops pattern'}                            | ${11} | ${47} | ${'incompatibilities[0].hops.to'}
    ${'an unknown field in hops'}                              | ${11} | ${55} | ${'incompatibilities[0].hops.until'}
  `('$problem at $line:$col ($path)', async ({ problem, line, col, path }) => {
    const err = await refusal(tails[problem] as string);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      exitCode: 2,
      location: { file: demoCatalogFile, line, col, path },
      hint: expect.stringMatching(/\S/),
    });
    expect(err.details).toHaveLength(1);
  });
});

describe('parseCatalog reads path rules', () => {
  it('defaults prefer to least-downtime and keeps edge rules and hop-scoped incompatibilities', async () => {
    const c = await load(dedent`
      upgrade:
        edges:
          - { from: "release:5.3.0", to: 5.4 GA, when: { fact: database.type, equals: postgresql } }
      incompatibilities:
        - { id: x, title: X, hops: { from: "release:5.3.0", to: ">=5.4, <6.0" }, severity: blocking, action: a }
    `);

    expect(c.catalog.upgrade.prefer).toBe('least-downtime');
    expect(c.edgesByPattern[0]?.when).toEqual({ fact: 'database.type', equals: 'postgresql' });
    expect(c.hopIncompatibilities).toHaveLength(1);
    expect(c.hopIncompatibilities[0]?.from.matches('5.3.0 Patch 1')).toBe(true);
    expect(c.hopIncompatibilities[0]?.to.matches('5.4 GA')).toBe(true);
    expect(c.hopIncompatibilities[0]?.to.matches('5.3.0 Patch 1')).toBe(false);
    expect(c.introducedIn.has('incompatibility:x')).toBe(false);
  });
});
