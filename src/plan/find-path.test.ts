import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../test/util/demo-catalog.ts';
import type { LoadedCatalog } from '../catalog/index.ts';
import { estimateStep } from './estimate.ts';
import { findPath, type PathResult, type PathStep } from './find-path.ts';

/** Every pack hop costs 60 s of downtime unless a release or an edge says otherwise. */
const durations = dedent`
  durations:
    downloadBytesPerSecond: 1000000
    backup: { seconds: 0 }
    stop: { seconds: 0 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 0 }
    validate: { seconds: 0 }
    rollback: { seconds: 0 }
`;

/** A demo catalog from top-level sections (releases, upgrade, …), with the durations above. */
const catalog = (...sections: string[]) => demoCatalog(...sections, durations);

/** findPath with the planner's own hop cost (estimated downtime of the step). */
function plan(c: LoadedCatalog, from: string, to: string, facts: object = {}): PathResult {
  const cost = (s: PathStep) => estimateStep(c, s, null, facts, new Set()).downtimeSeconds;
  return findPath(c, from, to, facts, cost);
}

function steps(r: PathResult): PathStep[] {
  if (!r.found) throw new Error(`no path; blocked by ${JSON.stringify(r.blockedBy)}`);
  return r.steps;
}

const hops = (r: PathResult) => steps(r).map((s) => s.to);
const codes = (r: PathResult) => steps(r).map((s) => s.reason.code);

describe('findPath', () => {
  describe('required stops', () => {
    const body = dedent`
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.1 GA, kind: ga }
        - { version: 1.2 GA, kind: ga }
        - { version: 1.3 GA, kind: ga }
        - { version: 2.0 GA, kind: ga }
      upgrade:
        requiredStops:
          - { release: "1.1" }
          - { release: "1.3", reason: 1.3 GA converts the queue }
    `;

    it.each`
      from        | to          | path                              | reasons
      ${'1.0 GA'} | ${'2.0 GA'} | ${['1.1 GA', '1.3 GA', '2.0 GA']} | ${['required-stop', 'required-stop', 'target']}
      ${'1.0 GA'} | ${'1.2 GA'} | ${['1.1 GA', '1.2 GA']}           | ${['required-stop', 'target']}
      ${'1.0 GA'} | ${'1.1 GA'} | ${['1.1 GA']}                     | ${['target']}
      ${'1.1 GA'} | ${'2.0 GA'} | ${['1.3 GA', '2.0 GA']}           | ${['required-stop', 'target']}
      ${'1.2 GA'} | ${'2.0 GA'} | ${['1.3 GA', '2.0 GA']}           | ${['required-stop', 'target']}
      ${'1.2 GA'} | ${'1.3 GA'} | ${['1.3 GA']}                     | ${['target']}
      ${'1.3 GA'} | ${'2.0 GA'} | ${['2.0 GA']}                     | ${['target']}
    `('$from → $to stops at $path', async ({ from, to, path, reasons }) => {
      const c = await catalog(body);

      const r = plan(c, from, to);

      expect(hops(r)).toEqual(path);
      expect(codes(r)).toEqual(reasons);
      expect(steps(r).every((s) => s.kind === 'pack')).toBe(true);
    });

    it('chains each hop from the previous one and quotes the stop reason', async () => {
      const c = await catalog(body);

      const r = plan(c, '1.2 GA', '2.0 GA');

      expect(steps(r)).toMatchObject([
        {
          kind: 'pack',
          from: '1.2 GA',
          to: '1.3 GA',
          reason: { code: 'required-stop', text: '1.3 GA converts the queue' },
        },
        { kind: 'pack', from: '1.3 GA', to: '2.0 GA', reason: { code: 'target' } },
      ]);
    });
  });

  describe('latest patch first', () => {
    const body = dedent`
      releases:
        - { version: 5.2.1 GA, kind: ga }
        - { version: 5.2.1 SP8, kind: service-pack }
        - { version: 5.2.1 SP9, kind: service-pack }
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.3.0 Patch 1, kind: patch }
        - { version: 5.3.0 Patch 2, kind: patch }
        - { version: 5.4 GA, kind: ga }
      upgrade:
        latestPatchFirst: true
        prerequisites:
          - { release: "5.2.1", target: 5.2.1 SP8, reason: SP8 is the last 5.2.1 level 5.3 can read }
        blocked:
          - { from: 5.2.1 SP9, reason: upgrading from 5.2.1 SP9 loses data, link: https://example.com/kb/9 }
        manualSteps:
          - id: remove-sp9
            title: Remove 5.2.1 SP9
            detail: Copy data aside, remove SP9, install 5.3.0 GA
            from: 5.2.1 SP9
            continueAt: 5.3.0 GA
            minutes: 90
    `;

    it.each`
      from               | to                 | path                           | reasons
      ${'5.3.0 GA'}      | ${'5.4 GA'}        | ${['5.3.0 Patch 2', '5.4 GA']} | ${['latest-patch-first', 'target']}
      ${'5.3.0 Patch 1'} | ${'5.4 GA'}        | ${['5.3.0 Patch 2', '5.4 GA']} | ${['latest-patch-first', 'target']}
      ${'5.3.0 Patch 2'} | ${'5.4 GA'}        | ${['5.4 GA']}                  | ${['target']}
      ${'5.3.0 GA'}      | ${'5.3.0 Patch 1'} | ${['5.3.0 Patch 1']}           | ${['target']}
      ${'5.2.1 GA'}      | ${'5.4 GA'}        | ${['5.2.1 SP8', '5.4 GA']}     | ${['latest-patch-first', 'target']}
      ${'5.2.1 GA'}      | ${'5.3.0 GA'}      | ${['5.2.1 SP8', '5.3.0 GA']}   | ${['latest-patch-first', 'target']}
      ${'5.2.1 SP8'}     | ${'5.4 GA'}        | ${['5.4 GA']}                  | ${['target']}
      ${'5.2.1 GA'}      | ${'5.2.1 SP9'}     | ${['5.2.1 SP9']}               | ${['target']}
    `('$from → $to goes $path', async ({ from, to, path, reasons }) => {
      const c = await catalog(body);

      const r = plan(c, from, to);

      expect(hops(r)).toEqual(path);
      expect(codes(r)).toEqual(reasons);
    });

    it('gives the prerequisite override its reason (5.2.1 → SP8, not SP9)', async () => {
      const c = await catalog(body);

      const [first] = steps(plan(c, '5.2.1 GA', '5.4 GA'));

      expect(first).toMatchObject({
        kind: 'pack',
        from: '5.2.1 GA',
        to: '5.2.1 SP8',
        reason: { code: 'latest-patch-first', text: 'SP8 is the last 5.2.1 level 5.3 can read' },
      });
    });

    it('goes to the latest patch, into the blocked SP9, when there is no override', async () => {
      const c = await catalog(body.replace(/ {2}prerequisites:\n.*\n/, ''));

      const r = plan(c, '5.2.1 GA', '5.4 GA');

      expect(c.prerequisites.size).toBe(0);
      expect(steps(r).map((s) => [s.kind, s.to])).toEqual([
        ['pack', '5.2.1 SP9'],
        ['manual', null],
        ['install', '5.3.0 GA'],
        ['pack', '5.4 GA'],
      ]);
    });

    it('leaves a blocked version by the manual step, then installs continueAt', async () => {
      const c = await catalog(body);

      const r = plan(c, '5.2.1 SP9', '5.4 GA');

      expect(steps(r)).toEqual([
        {
          kind: 'manual',
          from: '5.2.1 SP9',
          to: null,
          reason: { code: 'manual-step', text: 'Copy data aside, remove SP9, install 5.3.0 GA' },
          manual: {
            id: 'remove-sp9',
            title: 'Remove 5.2.1 SP9',
            detail: 'Copy data aside, remove SP9, install 5.3.0 GA',
            minutes: 90,
            link: undefined,
          },
        },
        {
          kind: 'install',
          from: null,
          to: '5.3.0 GA',
          reason: { code: 'after-manual-step', text: expect.any(String) },
        },
        {
          kind: 'pack',
          from: '5.3.0 GA',
          to: '5.4 GA',
          reason: { code: 'target', text: expect.any(String) },
          downtimeMinutes: undefined,
        },
      ]);
    });

    it('ends at continueAt when it is the target', async () => {
      const c = await catalog(body);

      const r = plan(c, '5.2.1 SP9', '5.3.0 GA');

      expect(steps(r).map((s) => [s.kind, s.from, s.to])).toEqual([
        ['manual', '5.2.1 SP9', null],
        ['install', null, '5.3.0 GA'],
      ]);
    });

    it('drops a forced first hop that is blocked and plans on from the installed version', async () => {
      const blocked = body.replace(
        '  blocked:\n',
        '  blocked:\n    - { from: 5.3.0 Patch 1, to: 5.3.0 Patch 2, reason: Patch 2 needs a clean 5.3.0 GA }\n',
      );
      const c = await catalog(blocked);

      const r = plan(c, '5.3.0 Patch 1', '5.4 GA');

      expect(hops(r)).toEqual(['5.4 GA']);
      expect(codes(r)).toEqual(['target']);
    });
  });

  describe('blocked with no way out', () => {
    const body = dedent`
      releases:
        - { version: 5.2.1 GA, kind: ga }
        - { version: 5.2.1 SP9, kind: service-pack }
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.4 GA, kind: ga }
      upgrade:
        blocked:
          - from: 5.2.1 SP9
            to: ">=5.3.0 GA"
            reason: no 5.3 release reads the data of 5.2.1 SP9
            link: https://example.com/kb/1234
    `;

    it('finds no path and says which block stopped it', async () => {
      const c = await catalog(body);

      const r = plan(c, '5.2.1 SP9', '5.4 GA');

      expect(r).toEqual({
        found: false,
        blockedBy: [
          {
            from: '5.2.1 SP9',
            reason: 'no 5.3 release reads the data of 5.2.1 SP9',
            link: 'https://example.com/kb/1234',
          },
        ],
        conditionalStops: [],
      });
    });

    it('blocks only the hops the entry matches', async () => {
      const c = await catalog(body);

      const r = plan(c, '5.2.1 GA', '5.4 GA');

      expect(hops(r)).toEqual(['5.4 GA']);
    });
  });

  describe('explicit edges', () => {
    const releases = dedent`
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.1 GA, kind: ga }
        - { version: 1.2 GA, kind: ga }
        - { version: 2.0 GA, kind: ga }
    `;

    it('takes the fewest hops even when a longer path has less downtime', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            edges:
              - { from: 1.0 GA, to: 1.1 GA, downtimeMinutes: 1 }
              - { from: 1.1 GA, to: 2.0 GA, downtimeMinutes: 1 }
              - { from: 1.0 GA, to: 2.0 GA, downtimeMinutes: 90 }
        `,
      );

      const r = plan(c, '1.0 GA', '2.0 GA');

      expect(steps(r)).toEqual([
        {
          kind: 'pack',
          from: '1.0 GA',
          to: '2.0 GA',
          reason: { code: 'edge', text: expect.any(String) },
          downtimeMinutes: 90,
        },
      ]);
    });

    it.each`
      via11 | via12 | path
      ${30} | ${5}  | ${['1.2 GA', '2.0 GA']}
      ${5}  | ${30} | ${['1.1 GA', '2.0 GA']}
      ${10} | ${11} | ${['1.1 GA', '2.0 GA']}
    `(
      'among equal hop counts takes the least downtime ($via11 min via 1.1, $via12 min via 1.2)',
      async ({ via11, via12, path }) => {
        const c = await catalog(
          releases,
          dedent`
            upgrade:
              edges:
                - { from: 1.0 GA, to: 1.1 GA, downtimeMinutes: ${via11} }
                - { from: 1.1 GA, to: 2.0 GA, downtimeMinutes: ${via11} }
                - { from: 1.0 GA, to: 1.2 GA, downtimeMinutes: ${via12} }
                - { from: 1.2 GA, to: 2.0 GA, downtimeMinutes: ${via12} }
          `,
        );

        const r = plan(c, '1.0 GA', '2.0 GA');

        expect(hops(r)).toEqual(path);
        expect(codes(r)).toEqual(['edge', 'edge']);
      },
    );

    it('weighs the estimated downtime of a release when edges state none', async () => {
      const c = await catalog(dedent`
        releases:
          - { version: 1.0 GA, kind: ga }
          - { version: 1.1 GA, kind: ga, durations: { migrate: { seconds: 3600 } } }
          - { version: 1.2 GA, kind: ga }
          - { version: 2.0 GA, kind: ga }
        upgrade:
          edges:
            - { from: 1.0 GA, to: 1.1 GA }
            - { from: 1.1 GA, to: 2.0 GA }
            - { from: 1.0 GA, to: 1.2 GA }
            - { from: 1.2 GA, to: 2.0 GA }
      `);

      const r = plan(c, '1.0 GA', '2.0 GA');

      expect(hops(r)).toEqual(['1.2 GA', '2.0 GA']);
    });

    it('gives hops only by edges when a catalog has edges and no stops', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            edges:
              - { from: "<1.2 GA", to: 1.2 GA }
        `,
      );

      const reachable = plan(c, '1.0 GA', '1.2 GA');
      const unreachable = plan(c, '1.0 GA', '2.0 GA');

      expect(hops(reachable)).toEqual(['1.2 GA']);
      expect(unreachable).toEqual({ found: false, blockedBy: [], conditionalStops: [] });
    });

    it('lets an edge cross a required stop', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            requiredStops:
              - { release: "1.1" }
            edges:
              - { from: "release:1.0", to: 2.0 GA }
        `,
      );

      const fromEdge = plan(c, '1.0 GA', '2.0 GA');
      const notOnEdge = plan(c, '1.0 GA', '1.2 GA');

      expect(hops(fromEdge)).toEqual(['2.0 GA']);
      expect(codes(fromEdge)).toEqual(['edge']);
      expect(hops(notOnEdge)).toEqual(['1.1 GA', '1.2 GA']);
    });

    it('never goes past the target on an edge', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            edges:
              - { from: 1.0 GA, to: 2.0 GA }
              - { from: 1.0 GA, to: 1.1 GA }
        `,
      );

      const r = plan(c, '1.0 GA', '1.2 GA');

      expect(r.found).toBe(false);
    });
  });

  describe('conditional stops', () => {
    const body = dedent`
      releases:
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.3.6 GA, kind: ga }
        - { version: 5.4 GA, kind: ga }
      upgrade:
        requiredStops:
          - release: "5.3.6"
            when: { fact: data.fileTrackingRows, gt: 5000000 }
            reason: large file-tracking tables migrate in two passes
    `;

    it.each`
      facts                                      | value        | path                      | missing
      ${{ data: { fileTrackingRows: 6000000 } }} | ${true}      | ${['5.3.6 GA', '5.4 GA']} | ${[]}
      ${{ data: { fileTrackingRows: 184000 } }}  | ${false}     | ${['5.4 GA']}             | ${[]}
      ${{}}                                      | ${'unknown'} | ${['5.3.6 GA', '5.4 GA']} | ${['data.fileTrackingRows']}
    `('is $value for $facts and the path is $path', async ({ facts, value, path, missing }) => {
      const c = await catalog(body);

      const r = plan(c, '5.3.0 GA', '5.4 GA', facts);

      expect(hops(r)).toEqual(path);
      expect(r.conditionalStops).toEqual([
        {
          version: '5.3.6 GA',
          reason: 'large file-tracking tables migrate in two passes',
          value,
          missing,
        },
      ]);
    });

    it('marks a hop to a conditional stop as such', async () => {
      const c = await catalog(body);

      const r = plan(c, '5.3.0 GA', '5.4 GA', {});

      expect(steps(r)[0]?.reason).toEqual({
        code: 'conditional-stop',
        text: 'large file-tracking tables migrate in two passes',
      });
    });
  });

  describe('tie-break among equally short paths (upgrade.prefer)', () => {
    /** Two two-hop paths, via 1.1 GA or via 1.2 GA; edges listed in the order given. */
    const graph = (prefer: string, edges: string[], slow12 = false) =>
      catalog(
        dedent`
          releases:
            - { version: 1.0 GA, kind: ga }
            - { version: 1.1 GA, kind: ga }
            - { version: 1.2 GA, kind: ga${slow12 ? ', durations: { apply: { seconds: 600 } }' : ''} }
            - { version: 2.0 GA, kind: ga }
        `,
        ['upgrade:', ...(prefer ? [`  prefer: ${prefer}`] : []), '  edges:', ...edges].join('\n'),
      );
    const via11 = ['    - { from: 1.0 GA, to: 1.1 GA }', '    - { from: 1.1 GA, to: 2.0 GA }'];
    const via12 = ['    - { from: 1.0 GA, to: 1.2 GA }', '    - { from: 1.2 GA, to: 2.0 GA }'];

    it.each`
      prefer              | slow12   | path
      ${''}               | ${false} | ${['1.2 GA', '2.0 GA']}
      ${''}               | ${true}  | ${['1.1 GA', '2.0 GA']}
      ${'least-downtime'} | ${true}  | ${['1.1 GA', '2.0 GA']}
      ${'highest-stops'}  | ${false} | ${['1.2 GA', '2.0 GA']}
      ${'highest-stops'}  | ${true}  | ${['1.2 GA', '2.0 GA']}
      ${'lowest-stops'}   | ${false} | ${['1.1 GA', '2.0 GA']}
    `(
      'prefer "$prefer" (1.2 GA slow: $slow12) goes $path, whatever the order of the edges',
      async ({ prefer, slow12, path }) => {
        const a = await graph(prefer, [...via11, ...via12], slow12);
        const b = await graph(prefer, [...via12, ...via11], slow12);

        expect(hops(plan(a, '1.0 GA', '2.0 GA'))).toEqual(path);
        expect(hops(plan(b, '1.0 GA', '2.0 GA'))).toEqual(path);
      },
    );

    it('compares the stops from the first hop on (highest-stops over three hops)', async () => {
      const c = await catalog(
        dedent`
          releases:
            - { version: 1.0 GA, kind: ga }
            - { version: 1.1 GA, kind: ga }
            - { version: 1.2 GA, kind: ga }
            - { version: 1.3 GA, kind: ga }
            - { version: 1.4 GA, kind: ga }
            - { version: 2.0 GA, kind: ga }
          upgrade:
            prefer: highest-stops
            edges:
              - { from: 1.0 GA, to: 1.1 GA }
              - { from: 1.0 GA, to: 1.2 GA }
              - { from: 1.1 GA, to: 1.4 GA }
              - { from: 1.2 GA, to: 1.3 GA }
              - { from: 1.3 GA, to: 2.0 GA }
              - { from: 1.4 GA, to: 2.0 GA }
        `,
      );

      expect(hops(plan(c, '1.0 GA', '2.0 GA'))).toEqual(['1.2 GA', '1.3 GA', '2.0 GA']);
    });
  });

  describe('latest patch first, where an edge allows', () => {
    const releases = dedent`
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.0 Patch 1, kind: patch }
        - { version: 1.0 Patch 2, kind: patch }
        - { version: 2.0 GA, kind: ga }
    `;
    const edgeOnly = (...edges: string[]) =>
      catalog(releases, ['upgrade:', '  latestPatchFirst: true', '  edges:', ...edges].join('\n'));

    it.each`
      case                                               | edges                                                                                                                                     | path                         | reasons
      ${'no edge to the latest patch'}                   | ${['    - { from: "release:1.0", to: 2.0 GA }']}                                                                                          | ${['2.0 GA']}                | ${['edge']}
      ${'the latest patch has no way out'}               | ${['    - { from: 1.0 Patch 1, to: 1.0 Patch 2 }', '    - { from: 1.0 Patch 1, to: 2.0 GA }']}                                            | ${['2.0 GA']}                | ${['edge']}
      ${'an edge to the latest patch and on from there'} | ${['    - { from: 1.0 Patch 1, to: 1.0 Patch 2 }', '    - { from: 1.0 Patch 2, to: 2.0 GA }', '    - { from: 1.0 Patch 1, to: 2.0 GA }']} | ${['1.0 Patch 2', '2.0 GA']} | ${['latest-patch-first', 'edge']}
    `('in an edge-only graph, $case: $path', async ({ edges, path, reasons }) => {
      const c = await edgeOnly(...edges);

      const r = plan(c, '1.0 Patch 1', '2.0 GA');

      expect(hops(r)).toEqual(path);
      expect(codes(r)).toEqual(reasons);
    });

    it('plans from the installed version when the latest patch leads nowhere (stop rules)', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            latestPatchFirst: true
            blocked:
              - { from: 1.0 Patch 2, reason: 1.0 Patch 2 cannot be upgraded }
        `,
      );

      const r = plan(c, '1.0 Patch 1', '2.0 GA');

      expect(hops(r)).toEqual(['2.0 GA']);
      expect(codes(r)).toEqual(['target']);
    });
  });

  describe('conditional edges', () => {
    const releases = dedent`
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.1 GA, kind: ga }
        - { version: 2.0 GA, kind: ga }
    `;
    const postgres = (type?: string) => (type ? { database: { type } } : {});

    it.each`
      facts                     | path                    | unknownEdges
      ${postgres('postgresql')} | ${['2.0 GA']}           | ${[]}
      ${postgres('oracle')}     | ${['1.1 GA', '2.0 GA']} | ${[]}
      ${postgres()}             | ${['1.1 GA', '2.0 GA']} | ${[]}
    `(
      'with a way round, takes the edge only when its rule holds ($facts → $path)',
      async ({ facts, path, unknownEdges }) => {
        const c = await catalog(
          releases,
          dedent`
            upgrade:
              requiredStops:
                - { release: "1.1" }
              edges:
                - { from: 1.0 GA, to: 2.0 GA, when: { fact: database.type, equals: postgresql } }
          `,
        );

        const r = plan(c, '1.0 GA', '2.0 GA', facts);

        expect(hops(r)).toEqual(path);
        expect(r.found && r.uncertainEdges).toEqual(unknownEdges);
      },
    );

    it('takes an unknown edge when it is the only way, and says so', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            edges:
              - { from: 1.0 GA, to: 2.0 GA, when: { fact: database.type, equals: postgresql } }
        `,
      );

      const unknown = plan(c, '1.0 GA', '2.0 GA', {});
      const no = plan(c, '1.0 GA', '2.0 GA', postgres('oracle'));

      expect(hops(unknown)).toEqual(['2.0 GA']);
      expect(unknown.found && unknown.uncertainEdges).toEqual([
        { from: '1.0 GA', to: '2.0 GA', missing: ['database.type'] },
      ]);
      expect(no.found).toBe(false);
    });
  });

  describe('hop-scoped incompatibilities (a risky edge)', () => {
    const graph = (severity: string, ...edges: string[]) =>
      catalog(
        dedent`
          releases:
            - { version: 1.0 GA, kind: ga }
            - { version: 1.1 GA, kind: ga }
            - { version: 2.0 GA, kind: ga }
            - { version: 3.0 GA, kind: ga }
          upgrade:
            edges:
        `,
        edges.map((e) => `    - ${e}`).join('\n'),
        dedent`
          incompatibilities:
            - id: direct-schema-jump
              title: The direct hop from 1.0 rewrites the schema in one pass
              hops: { from: "release:1.0", to: ">=2.0 GA, <3.0" }
              when: { fact: data.rows, gt: 1000000 }
              severity: ${severity}
              action: Go through 1.1 GA, or allow a day for the rewrite.
        `,
      );
    const all = [
      '{ from: 1.0 GA, to: 2.0 GA }',
      '{ from: 1.0 GA, to: 1.1 GA }',
      '{ from: 1.1 GA, to: 2.0 GA }',
      '{ from: 1.0 GA, to: 3.0 GA }',
    ];
    const rows = (n?: number) => (n === undefined ? {} : { data: { rows: n } });

    it.each`
      severity      | facts              | to          | path                    | outcomes
      ${'blocking'} | ${rows(5_000_000)} | ${'2.0 GA'} | ${['1.1 GA', '2.0 GA']} | ${[]}
      ${'blocking'} | ${rows(10)}        | ${'2.0 GA'} | ${['2.0 GA']}           | ${[false]}
      ${'blocking'} | ${rows()}          | ${'2.0 GA'} | ${['1.1 GA', '2.0 GA']} | ${[]}
      ${'action'}   | ${rows(5_000_000)} | ${'2.0 GA'} | ${['1.1 GA', '2.0 GA']} | ${[]}
      ${'info'}     | ${rows(5_000_000)} | ${'2.0 GA'} | ${['2.0 GA']}           | ${[true]}
      ${'blocking'} | ${rows(5_000_000)} | ${'3.0 GA'} | ${['3.0 GA']}           | ${[]}
    `(
      '$severity, $facts, to $to: routes $path',
      async ({ severity, facts, to, path, outcomes }) => {
        const c = await graph(severity, ...all);

        const r = plan(c, '1.0 GA', to, facts);

        expect(hops(r)).toEqual(path);
        expect(r.found && r.hopIncompatibilities.map((h) => h.value)).toEqual(outcomes);
      },
    );

    it('takes the risky hop when it is the only way, and names it', async () => {
      const c = await graph('blocking', '{ from: 1.0 GA, to: 2.0 GA }');

      const unknown = plan(c, '1.0 GA', '2.0 GA', rows());
      const applies = plan(c, '1.0 GA', '2.0 GA', rows(5_000_000));

      expect(hops(unknown)).toEqual(['2.0 GA']);
      expect(unknown.found && unknown.hopIncompatibilities).toMatchObject([
        { from: '1.0 GA', to: '2.0 GA', value: 'unknown', missing: ['data.rows'] },
      ]);
      expect(applies).toMatchObject({
        found: false,
        blockedBy: [
          {
            from: '1.0 GA',
            reason:
              'The direct hop from 1.0 rewrites the schema in one pass: Go through 1.1 GA, or allow a day for the rewrite.',
          },
        ],
      });
    });
  });
});
