import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import type { UpliftError } from '../errors/index.ts';
import { parseCatalog } from './load.ts';
import { provenanceOf } from './provenance.ts';

const file = 'demo/catalog.yaml';

/** Lines 1–6; each case's releases start on line 7. */
const head = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  sources: [{ title: Demo release notes }]
  releases:
`;

/** Appended after each case, so the case's line numbers are the file's. */
const tail = dedent`
  upgrade: {}
  durations:
    source: { doc: guide.md, section: Timings }
    downloadBytesPerSecond: 1000000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 20 }
    validate: { seconds: 300 }
    rollback: { seconds: 120 }
`;

function refusal(releases: string): UpliftError {
  try {
    parseCatalog(`${head}\n${releases}\n${tail}\n`, file);
  } catch (err) {
    return err as UpliftError;
  }
  throw new Error('expected the catalog to be refused');
}

const sourced = '  - { version: 1.0 GA, kind: ga, source: { doc: notes.md, section: "1.0" } }';

describe('provenance: the validator refuses', () => {
  it.each`
    problem                                   | releases                                                                                                                                                  | line  | col   | path                                         | hint
    ${'a release with neither'}               | ${`${sourced}\n  - { version: 1.1 GA, kind: ga }`}                                                                                                        | ${8}  | ${5}  | ${'releases[1]'}                             | ${/add source: \{ doc: .*illustrative: true with reason/}
    ${'illustrative: true without a reason'}  | ${'  - { version: 1.0 GA, kind: ga, illustrative: true }'}                                                                                                | ${7}  | ${48} | ${'releases[0].illustrative'}                | ${/add reason:/}
    ${'a source and illustrative together'}   | ${'  - { version: 1.0 GA, kind: ga, source: { doc: a, section: b }, illustrative: true, reason: r }'}                                                     | ${7}  | ${80} | ${'releases[0].illustrative'}                | ${/remove source/}
    ${'a reason without illustrative'}        | ${`${sourced}\n  - { version: 1.1 GA, kind: ga, source: { doc: a, section: b }, reason: r }`}                                                             | ${8}  | ${74} | ${'releases[1].reason'}                      | ${/illustrative: true, or remove reason/}
    ${'a note illustrative without a reason'} | ${'  - version: 1.0 GA\n    kind: ga\n    source: { doc: n, section: s }\n    notes:\n      fixed:\n        - { id: X-1, title: T, illustrative: true }'} | ${12} | ${46} | ${'releases[0].notes.fixed[0].illustrative'} | ${/add reason:/}
    ${'a source without its section'}         | ${'  - { version: 1.0 GA, kind: ga, source: { doc: notes.md } }'}                                                                                         | ${7}  | ${42} | ${'releases[0].source.section'}              | ${/./}
  `('$problem, at $line:$col ($path)', ({ releases, line, col, path, hint }) => {
    const err = refusal(releases);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      exitCode: 2,
      location: { file, line, col, path },
    });
    expect(err.hint).toMatch(hint);
  });

  it('names every entry without provenance: durations, incompatibilities, prerequisites, tasks', () => {
    const text = dedent`
      catalog: 1
      product: demo
      title: Demo
      versionScheme: dotted-patch
      releases:
        - { version: 1.0 GA, kind: ga, source: { doc: notes.md, section: "1.0" } }
      upgrade: {}
      incompatibilities:
        - { id: i1, title: T, introducedIn: 1.0 GA, severity: info, action: A }
      externalPrerequisites:
        - { id: p1, title: T, system: db, require: { fact: db.v, exists: true }, action: A }
      tasks:
        - { id: t1, title: T }
      durations:
        downloadBytesPerSecond: 1000000
        backup: { seconds: 60 }
        stop: { seconds: 10 }
        apply: { seconds: 60 }
        migrate: { seconds: 0 }
        start: { seconds: 20 }
        validate: { seconds: 300 }
        rollback: { seconds: 120 }
    `;

    let err: UpliftError | undefined;
    try {
      parseCatalog(text, file);
    } catch (e) {
      err = e as UpliftError;
    }

    expect(err?.details.map((d) => [d.location?.path, d.location?.line])).toEqual([
      ['durations', 15],
      ['incompatibilities[0]', 9],
      ['externalPrerequisites[0]', 11],
      ['tasks[0]', 13],
    ]);
  });
});

describe('provenance: the validator accepts', () => {
  it('notes and packs that inherit, or override, their release', () => {
    const release = [
      '  - version: 1.0 GA',
      '    kind: ga',
      '    illustrative: true',
      '    reason: the date is assumed',
      '    date: 2020-01-01',
      '    notes:',
      '      fixed:',
      '        - { id: X-1, title: Inherits }',
      '        - { id: X-2, title: Sourced, source: { doc: notes.md, section: Fixed issues } }',
      '    packs:',
      '      - { platform: p, file: a.zip, size: 1 }',
    ].join('\n');
    const text = `${head}\n${release}\n${tail}\n`;

    const c = parseCatalog(text, file);

    const entry = c.catalog.releases[0];
    const [inherits, overrides] = entry?.notes?.fixed ?? [];
    const parent = provenanceOf(entry ?? {}, undefined);
    expect(parent).toEqual({ kind: 'illustrative', reason: 'the date is assumed' });
    expect(provenanceOf(inherits ?? {}, parent)).toEqual(parent);
    expect(provenanceOf(overrides ?? {}, parent)).toEqual({
      kind: 'source',
      source: { doc: 'notes.md', section: 'Fixed issues' },
    });
  });

  it('a wholly illustrative catalog without marks on its entries', () => {
    const text = `${head}\n  - { version: 1.0 GA, kind: ga }\n${tail.replace(/ {2}source: .*\n/, '')}\nillustrative: true\nreason: a demo\n`;

    const c = parseCatalog(text, file);

    expect(c.versions).toEqual(['1.0 GA']);
  });
});

describe('provenance of upgrade rules', () => {
  /** Two releases, then the case's upgrade section from line 9 on. */
  const rules = (upgrade: string, extra = '') =>
    [
      'catalog: 1',
      'product: demo',
      'title: Demo',
      'versionScheme: dotted-patch',
      'releases:',
      '  - { version: 1.0 GA, kind: ga, source: { doc: notes.md, section: "1.0" } }',
      '  - { version: 1.1 GA, kind: ga, source: { doc: notes.md, section: "1.1" } }',
      '  - { version: 1.2 GA, kind: ga, source: { doc: notes.md, section: "1.2" } }',
      upgrade,
      tail.replace(/^upgrade: \{\}\n/, ''),
      extra,
      '',
    ].join('\n');
  const refused = (text: string): UpliftError => {
    try {
      parseCatalog(text, file);
    } catch (err) {
      return err as UpliftError;
    }
    throw new Error('expected the catalog to be refused');
  };

  it.each`
    rule                       | upgrade                                                                                         | line  | col   | path
    ${'a required stop'}       | ${'upgrade:\n  requiredStops:\n    - { release: "1.1", take: ga }'}                             | ${11} | ${7}  | ${'upgrade.requiredStops[0]'}
    ${'an edge'}               | ${'upgrade:\n  edges:\n    - { from: 1.0 GA, to: 1.2 GA }'}                                     | ${11} | ${7}  | ${'upgrade.edges[0]'}
    ${'a blocked hop'}         | ${'upgrade:\n  blocked:\n    - { from: 1.0 GA, reason: loses data }'}                           | ${11} | ${7}  | ${'upgrade.blocked[0]'}
    ${'a manual step'}         | ${'upgrade:\n  manualSteps:\n    - { id: m, title: Remove, from: 1.0 GA, continueAt: 1.1 GA }'} | ${11} | ${7}  | ${'upgrade.manualSteps[0]'}
    ${'a latest-patch target'} | ${'upgrade:\n  prerequisites:\n    - { release: "1.0", target: 1.0 GA }'}                       | ${11} | ${7}  | ${'upgrade.prerequisites[0]'}
    ${'latestPatchFirst'}      | ${'upgrade:\n  latestPatchFirst: true'}                                                         | ${10} | ${21} | ${'upgrade.latestPatchFirst'}
  `(
    'refuses $rule with neither source nor illustrative, at $line:$col',
    ({ upgrade, line, col, path }) => {
      const err = refused(rules(upgrade));

      expect(err).toMatchObject({
        code: 'UPLIFT_CATALOG_INVALID',
        exitCode: 2,
        location: { file, line, col, path },
      });
      expect(err.message).toMatch(/neither a source nor illustrative: true/);
      expect(err.hint).toMatch(/add source: \{ doc: .*illustrative: true with illustrativeReason/);
    },
  );

  it('refuses an illustrative rule without its reason, at the field', () => {
    const err = refused(
      rules('upgrade:\n  requiredStops:\n    - { release: "1.1", take: ga, illustrative: true }'),
    );

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file, line: 11, col: 49, path: 'upgrade.requiredStops[0].illustrative' },
    });
  });

  it('accepts rules that inherit the upgrade section’s provenance, or the whole catalog’s', () => {
    const section = [
      'upgrade:',
      '  illustrative: true',
      '  illustrativeReason: the demo vendor states no path',
      '  latestPatchFirst: true',
      '  requiredStops:',
      '    - { release: "1.1", take: ga }',
      '    - { release: "1.2", take: ga, source: { doc: guide.md, section: Paths } }',
    ].join('\n');

    const c = parseCatalog(rules(section), file);
    const whole = parseCatalog(
      rules(
        'upgrade:\n  edges:\n    - { from: 1.0 GA, to: 1.2 GA }',
        'illustrative: true\nreason: a demo',
      ),
      file,
    );

    expect(c.stops.map((s) => s.version)).toEqual(['1.1 GA', '1.2 GA']);
    expect(whole.hasEdges).toBe(true);
  });
});
