import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../test/util/demo-catalog.ts';
import type { Facts, LoadedCatalog } from '../catalog/index.ts';
import { assemblePlan, type PlanRequest } from './assemble-plan.ts';
import type { Plan } from './schema.ts';

/*
 * Plans over the catalog format additions of issue 12: duration formulas, settle checks,
 * announced releases, any-patch stops, channels and step methods.
 */

/** A pack hop costs stop 10 + apply 60 + migrate (the formula) + start 20 seconds. */
const durations = (migrate: string) => dedent`
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: ${migrate}
    start: { seconds: 20 }
    validate: { seconds: 600 }
    rollback: { seconds: 120 }
`;

const linux = { platform: { os: 'linux', id: 'linux-x86-64' } };

const releases = dedent`
  releases:
    - { version: 1.0 GA, kind: ga, packs: [{ platform: linux-x86-64, file: a.upk, size: 1000 }] }
    - { version: 1.1 GA, kind: ga, packs: [{ platform: linux-x86-64, file: b.upk, size: 1000 }] }
`;

function plan(c: LoadedCatalog, facts: Facts, req: Partial<PlanRequest> = {}): Plan {
  return assemblePlan({ profile: 'demo', catalog: c, facts, from: '1.0 GA', to: 'latest', ...req });
}

describe('duration formulas', () => {
  const formula = '{ formula: "ceil(topology.nodes / topology.maxUnavailable) * 10m" }';

  it.each`
    nodes | maxUnavailable | migrate
    ${1}  | ${1}           | ${600}
    ${7}  | ${2}           | ${2400}
    ${8}  | ${2}           | ${2400}
    ${9}  | ${3}           | ${1800}
  `(
    '$nodes nodes, $maxUnavailable at a time: migrate $migrate s',
    async ({ nodes, maxUnavailable, migrate }) => {
      const c = await demoCatalog(releases, 'upgrade: {}', durations(formula));

      const p = plan(c, { ...linux, topology: { nodes, maxUnavailable } });

      expect(p.steps[0]?.estimate.phases.migrate).toBe(migrate);
      expect(p.steps[0]?.estimate.downtimeSeconds).toBe(10 + 60 + migrate + 20);
      expect(p.estimate.assumptions).toEqual([]);
    },
  );

  it('counts an unknown formula as 0 and names the missing fact in the assumptions', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations(formula));

    const p = plan(c, { ...linux, topology: { nodes: 4 } });

    expect(p.steps[0]?.estimate.phases.migrate).toBe(0);
    expect(p.estimate.assumptions).toEqual([
      'topology.maxUnavailable is unknown; its share of the estimate was counted as 0',
    ]);
  });

  it('says so when the formula divides by zero', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations(formula));

    const p = plan(c, { ...linux, topology: { nodes: 4, maxUnavailable: 0 } });

    expect(p.steps[0]?.estimate.phases.migrate).toBe(0);
    expect(p.estimate.assumptions).toEqual([
      '"ceil(topology.nodes / topology.maxUnavailable) * 10m" at character 21: divides by zero; it was counted as 0',
    ]);
  });

  it('adds the fixed part and the per parts to the formula', async () => {
    const c = await demoCatalog(
      releases,
      'upgrade: {}',
      durations(
        '{ seconds: 5, per: [{ fact: data.rows, unit: 1000, seconds: 1 }], formula: "max(60, topology.nodes * 30)" }',
      ),
    );

    const p = plan(c, { ...linux, data: { rows: 10000 }, topology: { nodes: 3 } });

    expect(p.steps[0]?.estimate.phases.migrate).toBe(5 + 10 + 90);
  });
});

describe('settle checks at stops', () => {
  const settleReleases = dedent`
    releases:
      - { version: 1.0 GA, kind: ga, packs: [{ platform: linux-x86-64, file: a.upk, size: 1000 }] }
      - version: 1.1 GA
        kind: ga
        packs: [{ platform: linux-x86-64, file: b.upk, size: 1000 }]
        settle: { check: background-migrations, timeoutMinutes: 90, reason: batched migrations run after start }
      - version: 1.2 GA
        kind: ga
        packs: [{ platform: linux-x86-64, file: c.upk, size: 1000 }]
        settle: { check: background-migrations }
  `;
  const stops = 'upgrade: { requiredStops: [{ release: "1.1" }] }';

  it.each`
    to          | settles
    ${'1.2 GA'} | ${[{ to: '1.1 GA', settle: { check: 'background-migrations', timeoutSeconds: 5400, intervalSeconds: 10, reason: 'batched migrations run after start' } }, { to: '1.2 GA', settle: undefined }]}
    ${'1.1 GA'} | ${[{ to: '1.1 GA', settle: undefined }]}
  `('to $to: a wait after each stop that a next hop follows', async ({ to, settles }) => {
    const c = await demoCatalog(settleReleases, stops, durations('{ seconds: 0 }'));

    const p = plan(c, linux, { to });

    expect(p.steps.map((s) => ({ to: s.to, settle: s.settle }))).toEqual(settles);
    expect(p.verdict).toBe('recommended');
  });
});
