import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import {
  demoCatalogFile,
  demoHeader,
  parseDemo,
  refusalOf,
} from '../../test/util/demo-catalog-text.ts';

const file = demoCatalogFile;
/** Lines 1–8 of the catalogs in the refusal table; each case's own text starts on line 9. */
const header = demoHeader;
const load = parseDemo;
const refusal = (text: string) => refusalOf(() => load(text));

const nonEmpty = expect.stringMatching(/\S/);

/**
 * The text after the header for each refused catalog; line 9 is its first line. Texts that
 * continue the releases list are plain strings, since dedent would trim their indentation.
 */
const tails: Record<string, string> = {
  'an unknown field': dedent`
    upgrade:
      latestPatchFrist: true
  `,
  'a field of the wrong type': dedent`
    upgrade:
      latestPatchFirst: "yes"
  `,
  'a value outside its list': dedent`
    upgrade:
      requiredStops:
        - { release: 5.3.0 GA, take: newest }
  `,
  'an unquoted number as a version': '  - { version: 5.5, kind: ga }\nupgrade: {}',
  'an unparsable release version': '  - { version: 5.5 Patch x, kind: patch }\nupgrade: {}',
  'a release listed twice (5.4 and 5.4 GA)': '  - { version: "5.4", kind: ga }\nupgrade: {}',
  'a required stop of a release without versions': dedent`
    upgrade:
      requiredStops:
        - { release: "5.3.6", take: ga }
  `,
  'a take: exact stop naming an unknown version': dedent`
    upgrade:
      requiredStops:
        - { release: 5.3.0, take: exact, version: 5.3.0 Patch 9 }
  `,
  'a prerequisite target in another release': dedent`
    upgrade:
      latestPatchFirst: true
      prerequisites:
        - { release: 5.3.0, target: 5.4 GA }
  `,
  'an introducedIn naming an unlisted version': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, introducedIn: 5.3.6 GA, severity: info, action: a }
  `,
  'a continueAt naming an unlisted version': dedent`
    upgrade:
      manualSteps:
        - { id: m, title: M, from: 5.3.0 GA, continueAt: 5.3.6 GA }
  `,
  'a manual step leading back to an older version': dedent`
    upgrade:
      manualSteps:
        - { id: m, title: M, from: 5.4 GA, continueAt: 5.3.0 GA }
  `,
  'an edge to an unlisted version': dedent`
    upgrade:
      edges:
        - { from: 5.3.0 GA, to: 5.5 GA }
  `,
  'an edge from an unlisted exact version': dedent`
    upgrade:
      edges:
        - { from: 5.3.1, to: 5.4 GA }
  `,
  'required stops out of ascending order (a cycle)': dedent`
    upgrade:
      requiredStops:
        - { release: 5.4 GA, take: ga }
        - { release: 5.3.0 GA, take: latest-patch }
  `,
  'the same required stop twice': dedent`
    upgrade:
      requiredStops:
        - { release: 5.3.0, take: latest-patch }
        - { release: 5.3.0, take: exact, version: 5.3.0 Patch 1 }
  `,
  'an edge going backwards': dedent`
    upgrade:
      edges:
        - { from: 5.4 GA, to: 5.3.0 GA }
  `,
  'an edge pattern that reaches back': dedent`
    upgrade:
      edges:
        - { from: "release:5.3.0 || 5.4", to: 5.4 GA }
  `,
  'an unreadable version pattern': dedent`
    upgrade:
      blocked:
        - { from: ">=5.3.0 GA,", reason: r }
  `,
  'a bad regular expression in a matches rule': dedent`
    upgrade: {}
    tasks:
      - id: t
        title: T
        when: { fact: os.name, matches: "([a-z" }
  `,
  'a bad regular expression nested in a rule': dedent`
    upgrade: {}
    incompatibilities:
      - id: x
        title: X
        introducedIn: 5.4 GA
        severity: action
        action: a
        when:
          all:
            - { fact: a, exists: true }
            - not: { fact: b, matches: "*" }
  `,
  'duplicate incompatibility ids': dedent`
    upgrade: {}
    incompatibilities:
      - { id: x, title: X, introducedIn: 5.4 GA, severity: info, action: a }
      - { id: x, title: Y, introducedIn: 5.4 GA, severity: info, action: b }
  `,
  'duplicate task ids': dedent`
    upgrade: {}
    tasks:
      - { id: backup, title: Back up }
      - { id: backup, title: Back up again }
  `,
  'a fact test with two operators': dedent`
    upgrade: {}
    tasks:
      - { id: t, title: T, when: { fact: a, equals: 1, gt: 0 } }
  `,
};

describe('parseCatalog refuses', () => {
  it.each`
    problem                                              | line  | col   | path
    ${'an unknown field'}                                | ${10} | ${3}  | ${'upgrade.latestPatchFrist'}
    ${'a field of the wrong type'}                       | ${10} | ${21} | ${'upgrade.latestPatchFirst'}
    ${'a value outside its list'}                        | ${11} | ${34} | ${'upgrade.requiredStops[0].take'}
    ${'an unquoted number as a version'}                 | ${9}  | ${16} | ${'releases[3].version'}
    ${'an unparsable release version'}                   | ${9}  | ${16} | ${'releases[3].version'}
    ${'a release listed twice (5.4 and 5.4 GA)'}         | ${9}  | ${16} | ${'releases[3].version'}
    ${'a required stop of a release without versions'}   | ${11} | ${18} | ${'upgrade.requiredStops[0].release'}
    ${'a take: exact stop naming an unknown version'}    | ${11} | ${47} | ${'upgrade.requiredStops[0].version'}
    ${'a prerequisite target in another release'}        | ${12} | ${33} | ${'upgrade.prerequisites[0].target'}
    ${'an introducedIn naming an unlisted version'}      | ${11} | ${38} | ${'incompatibilities[0].introducedIn'}
    ${'a continueAt naming an unlisted version'}         | ${11} | ${54} | ${'upgrade.manualSteps[0].continueAt'}
    ${'a manual step leading back to an older version'}  | ${11} | ${52} | ${'upgrade.manualSteps[0].continueAt'}
    ${'an edge to an unlisted version'}                  | ${11} | ${29} | ${'upgrade.edges[0].to'}
    ${'an edge from an unlisted exact version'}          | ${11} | ${15} | ${'upgrade.edges[0].from'}
    ${'required stops out of ascending order (a cycle)'} | ${12} | ${7}  | ${'upgrade.requiredStops[1]'}
    ${'the same required stop twice'}                    | ${12} | ${7}  | ${'upgrade.requiredStops[1]'}
    ${'an edge going backwards'}                         | ${11} | ${15} | ${'upgrade.edges[0].from'}
    ${'an edge pattern that reaches back'}               | ${11} | ${15} | ${'upgrade.edges[0].from'}
    ${'an unreadable version pattern'}                   | ${11} | ${15} | ${'upgrade.blocked[0].from'}
    ${'a bad regular expression in a matches rule'}      | ${13} | ${37} | ${'tasks[0].when.matches'}
    ${'a bad regular expression nested in a rule'}       | ${19} | ${36} | ${'incompatibilities[0].when.all[1].not.matches'}
    ${'duplicate incompatibility ids'}                   | ${12} | ${11} | ${'incompatibilities[1].id'}
    ${'duplicate task ids'}                              | ${12} | ${11} | ${'tasks[1].id'}
    ${'a fact test with two operators'}                  | ${11} | ${30} | ${'tasks[0].when'}
  `('$problem at $line:$col ($path)', async ({ problem, line, col, path }) => {
    const text = `${header}\n${tails[problem]}`;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      exitCode: 2,
      location: { file, line, col, path },
      hint: nonEmpty,
    });
    expect(err.details).toHaveLength(1);
    expect(err.details[0]).toMatchObject({ location: { file, line, col, path } });
  });

  it.each`
    problem                           | text                                                                 | line | col
    ${'a tab in the indentation'}     | ${'catalog: 1\nproduct: demo\n\ttitle: Demo'}                        | ${3} | ${1}
    ${'a key given twice in one map'} | ${'catalog: 1\nproduct: demo\nproduct: other\ntitle: Demo'}          | ${3} | ${1}
    ${'a key without a colon'}        | ${'catalog: 1\nproduct demo\ntitle: Demo'}                           | ${2} | ${1}
    ${'an unclosed flow sequence'}    | ${'catalog: 1\nreleases: [ { version: 5.4, kind: ga }\nupgrade: {}'} | ${2} | ${11}
  `('YAML with $problem, at $line:$col', async ({ text, line, col }) => {
    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_YAML',
      exitCode: 2,
      location: { file, line, col },
      hint: nonEmpty,
    });
  });

  it('YAML with an unclosed quote', async () => {
    const text = 'catalog: 1\nproduct: "demo\ntitle: Demo';

    const err = await refusal(text);

    expect(err).toMatchObject({ code: 'UPLIFT_CATALOG_YAML', location: { file }, hint: nonEmpty });
    expect(err.location?.line).toEqual(expect.any(Number));
  });

  it.each([
    {
      problem: 'an unknown versionScheme, at its value',
      text: dedent`
        catalog: 1
        product: demo
        title: Demo
        versionScheme: calver
        releases:
          - { version: 5.4 GA, kind: ga }
        upgrade: {}
      `,
      location: { line: 4, col: 16, path: 'versionScheme' },
    },
    {
      problem: 'a missing required field, at the map that lacks it',
      text: dedent`
        catalog: 1
        product: demo
        title: Demo
        versionScheme: dotted-patch
        releases:
          - { version: 5.4 GA }
        upgrade: {}
      `,
      location: { line: 6, col: 5, path: 'releases[0].kind' },
    },
    {
      problem: 'a release version in another scheme (semver catalog)',
      text: dedent`
        catalog: 1
        product: demo
        title: Demo
        versionScheme: semver
        releases:
          - { version: 2.4.0, kind: ga }
          - { version: 2.4 Patch 1, kind: patch }
        upgrade: {}
      `,
      location: { line: 7, col: 16, path: 'releases[1].version' },
    },
  ])('$problem', async ({ text, location }) => {
    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file, ...location },
      hint: nonEmpty,
    });
  });

  it('collects every problem in details, first one leading', async () => {
    const text = dedent`
      catalog: 1
      product: demo
      title: Demo
      versionScheme: dotted-patch
      releases:
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.4 GA, kind: ga }
        - { version: 5.4 Patch x, kind: patch }
      upgrade:
        edges:
          - { from: 5.4 GA, to: 5.3.0 GA }
      incompatibilities:
        - { id: x, title: X, introducedIn: 5.9 GA, severity: info, action: a }
    `;

    const err = await refusal(text);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { line: 8, col: 16 },
    });
    expect(err.details).toMatchObject([
      { location: { file, line: 8, col: 16, path: 'releases[2].version' }, hint: nonEmpty },
      { location: { file, line: 11, col: 15, path: 'upgrade.edges[0].from' }, hint: nonEmpty },
      {
        location: { file, line: 13, col: 38, path: 'incompatibilities[0].introducedIn' },
        hint: nonEmpty,
      },
    ]);
  });

  it('collects every schema problem in details', async () => {
    const text = dedent`
      catalog: 2
      product: demo
      title: Demo
      versionScheme: dotted-patch
      releases:
        - { version: 5.4 GA, kind: gold, colour: red }
      upgrade: {}
    `;

    const err = await refusal(text);

    expect(err.code).toBe('UPLIFT_CATALOG_INVALID');
    expect(err.details.map((d) => d.location)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 1, col: 10, path: 'catalog' }),
        expect.objectContaining({ line: 6, col: 30, path: 'releases[0].kind' }),
        expect.objectContaining({ line: 6, col: 36, path: 'releases[0].colour' }),
      ]),
    );
    expect(err.details).toHaveLength(3);
  });

  it('renders as one readable report', async () => {
    const err = await refusal(`${header}\n${tails['an edge going backwards']}`);

    expect({
      code: err.code,
      message: err.message,
      hint: err.hint,
      location: err.location,
    }).toMatchInlineSnapshot(`
        {
          "code": "UPLIFT_CATALOG_INVALID",
          "hint": "an edge must lead to a newer version",
          "location": {
            "col": 15,
            "file": "demo/catalog.yaml",
            "line": 11,
            "path": "upgrade.edges[0].from",
          },
          "message": "upgrade.edges[0].from: the edge from 5.4 GA to 5.3.0 GA goes backwards, which makes a cycle",
        }
      `);
  });
});

describe('parseCatalog accepts', () => {
  const valid = dedent`
    catalog: 1
    product: demo
    title: Demo
    versionScheme: dotted-patch
    releases:
      - { version: 5.4 GA, kind: ga }
      - { version: 5.3.0 Patch 2, kind: patch }
      - { version: 5.2.1 SP9, kind: service-pack }
      - { version: 5.3.0 GA, kind: ga }
      - { version: 5.2.1 SP8, kind: service-pack }
      - { version: 5.3.0 Patch 1, kind: patch }
      - { version: 5.2.1 GA, kind: ga }
      - { version: 5.4 Patch 1, kind: patch }
      - { version: 5.5 GA, kind: ga }
    upgrade:
      latestPatchFirst: true
      prerequisites:
        - { release: "5.2.1", target: 5.2.1 sp 8, reason: SP8 is the last level that upgrades }
      requiredStops:
        - { release: 5.3.0 Patch 1, take: latest-patch }
        - { release: "5.4.0", take: ga, reason: migrates the database }
        - { release: "5.4", take: exact, version: 5.4.0 Patch 1 }
      edges:
        - { from: 5.2.1 sp8, to: "5.4" }
        - { from: "release:5.3.0", to: 5.5 GA, downtimeMinutes: 30 }
      blocked:
        - { from: 5.2.1 SP9, reason: loses data }
      manualSteps:
        - { id: remove-sp9, title: Remove SP9, from: 5.2.1 SP9, continueAt: 5.3.0 }
    incompatibilities:
      - { id: x, title: X, introducedIn: "5.4", severity: info, action: a }
  `;

  it('loads a valid catalog with versions ascending', async () => {
    const c = await load(valid);

    expect(c.file).toBe(file);
    expect(c.scheme.id).toBe('dotted-patch');
    expect(c.catalog.product).toBe('demo');
    expect(c.versions).toEqual([
      '5.2.1 GA',
      '5.2.1 SP8',
      '5.2.1 SP9',
      '5.3.0 GA',
      '5.3.0 Patch 1',
      '5.3.0 Patch 2',
      '5.4 GA',
      '5.4 Patch 1',
      '5.5 GA',
    ]);
    expect([...c.releases.keys()].sort()).toEqual([...c.versions].sort());
  });

  it('resolves stops to catalog versions: latest-patch, ga and exact', async () => {
    const c = await load(valid);

    expect(c.stops.map((s) => s.version)).toEqual(['5.3.0 Patch 2', '5.4 GA', '5.4 Patch 1']);
    expect(c.stops[1]?.stop).toMatchObject({ take: 'ga', reason: 'migrates the database' });
  });

  it('defaults a stop to take: ga', async () => {
    const c = await load(`${header}\nupgrade:\n  requiredStops:\n    - { release: 5.3.0 Patch 1 }`);

    expect(c.stops).toMatchObject([{ version: '5.3.0 GA', stop: { take: 'ga' } }]);
  });

  it('resolves references to the catalog spelling', async () => {
    const c = await load(valid);

    expect(c.prerequisites.get('5.2.1')).toEqual({
      target: '5.2.1 SP8',
      reason: 'SP8 is the last level that upgrades',
    });
    expect([...c.edgesFrom.keys()]).toEqual(['5.2.1 SP8']);
    expect(c.edgesFrom.get('5.2.1 SP8')?.map((e) => e.to)).toEqual(['5.4 GA']);
    expect(c.edgesByPattern.map((e) => [e.from.source, e.to, e.downtimeMinutes])).toEqual([
      ['release:5.3.0', '5.5 GA', 30],
    ]);
    expect(c.hasEdges).toBe(true);
    expect(c.manualSteps.map((m) => m.continueAt)).toEqual(['5.3.0 GA']);
    expect(c.introducedIn.get('incompatibility:x')).toBe('5.4 GA');
  });

  it('compiles the blocked and manual-step patterns', async () => {
    const c = await load(valid);

    expect(c.blocked.map((b) => c.versions.filter((v) => b.from.matches(v)))).toEqual([
      ['5.2.1 SP9'],
    ]);
    expect(c.manualSteps[0]?.from.matches('5.2.1 SP9')).toBe(true);
    expect(c.manualSteps[0]?.from.matches('5.2.1 SP8')).toBe(false);
  });

  it('loads a semver catalog with the defaults filled in', async () => {
    const text = dedent`
      catalog: 1
      product: tool
      title: Tool
      versionScheme: semver
      releases:
        - { version: 2.4.1, kind: patch }
        - { version: 2.4.0, kind: ga }
        - { version: 3.0.0, kind: ga }
      upgrade:
        requiredStops:
          - { release: 2.4.0, take: latest-patch }
    `;

    const c = await load(text);

    expect(c.versions).toEqual(['2.4.0', '2.4.1', '3.0.0']);
    expect(c.stops.map((s) => s.version)).toEqual(['2.4.1']);
    expect(c.catalog.upgrade.latestPatchFirst).toBe(false);
    expect(c.catalog.durations.backupNeedsStop).toBe(false);
    expect(c.catalog.incompatibilities).toEqual([]);
    expect(c.hasEdges).toBe(false);
  });

  it('gives a sha256 digest that follows the text', async () => {
    const a = await load(valid);
    const same = await load(valid);
    const changed = await load(valid.replace('title: Demo', 'title: Demo 2'));

    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(same.digest).toBe(a.digest);
    expect(changed.digest).not.toBe(a.digest);
  });
});
