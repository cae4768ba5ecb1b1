import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { type LoadedCatalog, parseCatalog } from '../catalog/index.ts';
import { digestNotes } from './digest-notes.ts';

const text = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  releases:
    - version: 5.3.0 GA
      kind: ga
      source: { doc: notes.md, section: "5.3.0 GA" }
      notes:
        fixed:
          - { id: D-0, title: Belongs to the installed version }
    - version: 5.3.0 Patch 1
      kind: patch
      source: { doc: notes.md, section: "5.3.0 Patch 1" }
      notes:
        features:
          - { id: F-1, title: Upload quotas, component: accounts }
        fixed:
          - { id: D-1, title: Crash on an empty upload, component: HTTP }
          - { id: D-2, title: Path traversal in download URLs, component: http, security: true }
        limitations:
          - id: L-1
            title: Searches by date are not indexed on PostgreSQL
            component: db
            when: { fact: database.type, equals: postgresql }
    - version: 5.3.0 Patch 2
      kind: patch
      illustrative: true
      reason: the notes of this patch are not published
      notes:
        fixed:
          - { id: D-1, title: Crash on an empty upload, component: http }
          - { id: D-3, title: The scheduler skipped jobs, component: scheduler }
        limitations:
          - { id: L-2, title: Oracle only, component: db, when: { fact: database.type, equals: oracle } }
    - version: 5.4 GA
      kind: ga
      source: { doc: notes.md, section: "5.4 GA" }
      notes:
        features:
          - { id: D-1, title: A feature that shares an id with a fix }
        fixed:
          - id: D-4
            title: Database password logged on PostgreSQL
            component: db
            security: true
            when: { fact: database.type, equals: postgresql }
    - version: 5.5 GA
      kind: ga
      source: { doc: notes.md, section: "5.5 GA" }
      notes:
        fixed:
          - { id: D-5, title: Beyond the target }
  upgrade: {}
  durations:
    source: { doc: guide.md, section: Timings }
    downloadBytesPerSecond: 1000000
    backup: { seconds: 0 }
    stop: { seconds: 0 }
    apply: { seconds: 0 }
    migrate: { seconds: 0 }
    start: { seconds: 0 }
    validate: { seconds: 0 }
    rollback: { seconds: 0 }
`;

const postgres = { database: { type: 'postgresql' } };

async function demo(): Promise<LoadedCatalog> {
  return parseCatalog(text, 'demo.yaml');
}

/** `type:id` of each entry, in digest order. */
const keys = (d: ReturnType<typeof digestNotes>) => d.entries.map((e) => `${e.type}:${e.id}`);

describe('digestNotes', () => {
  it.each`
    from               | to                 | releases
    ${'5.3.0 GA'}      | ${'5.4 GA'}        | ${['5.3.0 Patch 1', '5.3.0 Patch 2', '5.4 GA']}
    ${'5.3.0 Patch 1'} | ${'5.4 GA'}        | ${['5.3.0 Patch 2', '5.4 GA']}
    ${'5.3.0 GA'}      | ${'5.3.0 Patch 1'} | ${['5.3.0 Patch 1']}
    ${'5.4 GA'}        | ${'5.5 GA'}        | ${['5.5 GA']}
    ${'5.5 GA'}        | ${'5.5 GA'}        | ${[]}
  `('reads the releases after $from up to $to', async ({ from, to, releases }) => {
    const c = await demo();

    const d = digestNotes(c, from, to, postgres);

    expect(d.releases).toEqual(releases);
    expect(d.entries.every((e) => releases.includes(e.release))).toBe(true);
  });

  it('lists an entry that several releases repeat once, with every release that lists it', async () => {
    const c = await demo();

    const d = digestNotes(c, '5.3.0 GA', '5.4 GA', postgres);

    const fixed = d.entries.filter((e) => e.id === 'D-1');
    expect(fixed).toMatchObject([
      { type: 'fixed', release: '5.3.0 Patch 1', releases: ['5.3.0 Patch 1', '5.3.0 Patch 2'] },
      { type: 'feature', release: '5.4 GA', releases: ['5.4 GA'] },
    ]);
  });

  it('puts what applies first, then unknown, general and not applying; security first in each', async () => {
    const c = await demo();

    const known = digestNotes(c, '5.3.0 GA', '5.4 GA', postgres);
    const unknown = digestNotes(c, '5.3.0 GA', '5.4 GA', {});

    expect(keys(known)).toEqual([
      'fixed:D-4',
      'limitation:L-1',
      'fixed:D-2',
      'feature:F-1',
      'fixed:D-1',
      'fixed:D-3',
      'feature:D-1',
      'limitation:L-2',
    ]);
    expect(known.entries.map((e) => e.status)).toEqual([
      'applies',
      'applies',
      'general',
      'general',
      'general',
      'general',
      'general',
      'does-not-apply',
    ]);
    expect(keys(unknown)).toEqual([
      'fixed:D-4',
      'limitation:L-1',
      'limitation:L-2',
      'fixed:D-2',
      'feature:F-1',
      'fixed:D-1',
      'fixed:D-3',
      'feature:D-1',
    ]);
    expect(unknown.entries[0]).toMatchObject({
      status: 'unknown',
      missingFacts: ['database.type'],
    });
  });

  it('marks security entries and counts what it lists', async () => {
    const c = await demo();

    const d = digestNotes(c, '5.3.0 GA', '5.4 GA', postgres);

    expect(d.entries.filter((e) => e.security).map((e) => e.id)).toEqual(['D-4', 'D-2']);
    expect(d.entries.find((e) => e.id === 'F-1')?.security).toBe(false);
    expect(d.counts).toEqual({ feature: 2, fixed: 4, limitation: 2, security: 2, applies: 2 });
  });

  it('carries the illustrative flag of the release that first lists an entry', async () => {
    const c = await demo();

    const d = digestNotes(c, '5.3.0 GA', '5.4 GA', postgres);

    const illustrative = d.entries.filter((e) => e.illustrative).map((e) => `${e.type}:${e.id}`);
    expect(illustrative).toEqual(['fixed:D-3', 'limitation:L-2']);
  });

  it.each`
    filter                                      | entries
    ${{ types: ['fixed'] }}                     | ${['fixed:D-4', 'fixed:D-2', 'fixed:D-1', 'fixed:D-3']}
    ${{ types: ['feature', 'limitation'] }}     | ${['limitation:L-1', 'feature:F-1', 'feature:D-1', 'limitation:L-2']}
    ${{ components: ['http'] }}                 | ${['fixed:D-2', 'fixed:D-1']}
    ${{ components: ['DB', 'scheduler'] }}      | ${['fixed:D-4', 'limitation:L-1', 'fixed:D-3', 'limitation:L-2']}
    ${{ securityOnly: true }}                   | ${['fixed:D-4', 'fixed:D-2']}
    ${{ types: ['fixed'], components: ['db'] }} | ${['fixed:D-4']}
    ${{ types: [] }}                            | ${[]}
  `('filters by $filter', async ({ filter, entries }) => {
    const c = await demo();

    const d = digestNotes(c, '5.3.0 GA', '5.4 GA', postgres, filter);

    expect(keys(d)).toEqual(entries);
    expect(d.counts.feature + d.counts.fixed + d.counts.limitation).toBe(entries.length);
  });
});
