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

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

const pack = (file: string) => `packs: [{ platform: linux-x86-64, file: ${file}, size: 1000 }]`;

describe('announced releases', () => {
  const announced = dedent`
    releases:
      - { version: 1.0 GA, kind: ga, ${pack('a.upk')} }
      - { version: 1.1 GA, kind: ga, ${pack('b.upk')} }
      - { version: 1.2 GA, kind: ga, announced: true, date: 2031-03-01 }
      - { version: 1.3 GA, kind: ga, announced: true }
  `;

  it.each`
    case                                                 | upgrade                                                                               | to          | verdict          | path
    ${'latest is the newest published release'}          | ${'upgrade: {}'}                                                                      | ${'latest'} | ${'recommended'} | ${['1.1 GA']}
    ${'an announced target is not yet available'}        | ${'upgrade: {}'}                                                                      | ${'1.2 GA'} | ${'blocked'}     | ${[]}
    ${'a required stop that is announced blocks beyond'} | ${'upgrade: { requiredStops: [{ release: "1.2" }] }'}                                 | ${'1.3 GA'} | ${'blocked'}     | ${[]}
    ${'an edge to an announced release is not taken'}    | ${'upgrade: { edges: [{ from: 1.0 GA, to: 1.2 GA }, { from: 1.0 GA, to: 1.1 GA }] }'} | ${'latest'} | ${'recommended'} | ${['1.1 GA']}
  `('$case', async ({ upgrade, to, verdict, path }) => {
    const c = await demoCatalog(announced, upgrade, durations('{ seconds: 0 }'));

    const p = plan(c, linux, { to });

    expect(p.verdict).toBe(verdict);
    expect(p.steps.map((s) => s.to)).toEqual(path);
    expect(p.announced).toEqual([{ version: '1.2 GA', date: '2031-03-01' }, { version: '1.3 GA' }]);
    if (verdict === 'blocked')
      expect(p.reasons[0]?.text).toContain('announced and not yet published');
  });
});

describe('channels', () => {
  const channels = dedent`
    channels:
      - { id: stable, default: true }
      - { id: fast }
      - { id: extended-support, title: Extended support }
    releases:
      - { version: 1.0 GA, kind: ga, ${pack('a.upk')} }
      - { version: 1.1 GA, kind: ga, channels: [stable, fast], ${pack('b.upk')} }
      - { version: 1.2 GA, kind: ga, channels: [fast], ${pack('c.upk')} }
      - { version: 1.3 GA, kind: ga, channels: [fast, stable], ${pack('d.upk')} }
      - { version: 1.4 GA, kind: ga, channels: [fast], ${pack('e.upk')} }
  `;
  const edges =
    'upgrade: { edges: [{ from: "<1.2 GA", to: 1.2 GA }, { from: "1.2 GA", to: 1.3 GA }, { from: 1.0 GA, to: 1.1 GA }, { from: "1.1 GA", to: 1.3 GA }, { from: "<1.4", to: 1.4 GA }] }';

  it.each`
    channel               | to          | target      | path
    ${undefined}          | ${'latest'} | ${'1.3 GA'} | ${['1.1 GA', '1.3 GA']}
    ${'stable'}           | ${'latest'} | ${'1.3 GA'} | ${['1.1 GA', '1.3 GA']}
    ${'fast'}             | ${'latest'} | ${'1.4 GA'} | ${['1.4 GA']}
    ${'fast'}             | ${'1.2 GA'} | ${'1.2 GA'} | ${['1.2 GA']}
    ${'extended-support'} | ${'latest'} | ${'1.0 GA'} | ${[]}
  `(
    '--channel $channel --to $to plans to $target by $path',
    async ({ channel, to, target, path }) => {
      const c = await demoCatalog(channels, edges, durations('{ seconds: 0 }'));

      const p = plan(c, linux, { to, channel });

      expect(p.to).toBe(target);
      expect(p.steps.map((s) => s.to)).toEqual(path);
      expect(p.channel).toBe(channel ?? 'stable');
    },
  );

  it('routes the stable channel around a fast-only release', async () => {
    const c = await demoCatalog(
      channels,
      'upgrade: { edges: [{ from: 1.0 GA, to: 1.2 GA }, { from: 1.2 GA, to: 1.3 GA }, { from: 1.0 GA, to: 1.1 GA }, { from: 1.1 GA, to: 1.3 GA }] }',
      durations('{ seconds: 0 }'),
    );

    const stable = plan(c, linux, { to: '1.3 GA', channel: 'stable' });

    expect(stable.steps.map((s) => s.to)).toEqual(['1.1 GA', '1.3 GA']);
  });

  it.each`
    channel     | to          | code
    ${'beta'}   | ${'latest'} | ${'UPLIFT_PLAN_UNKNOWN_CHANNEL'}
    ${'stable'} | ${'1.2 GA'} | ${'UPLIFT_PLAN_NOT_IN_CHANNEL'}
  `('refuses --channel $channel --to $to ($code)', async ({ channel, to, code }) => {
    const c = await demoCatalog(channels, edges, durations('{ seconds: 0 }'));

    const err = thrown(() => plan(c, linux, { to, channel }));

    expect(err).toMatchObject({ code, exitCode: 2, hint: expect.stringMatching(/\S/) });
  });

  it('refuses --channel for a catalog without channels', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations('{ seconds: 0 }'));

    const err = thrown(() => plan(c, linux, { channel: 'stable' }));

    expect(err).toMatchObject({ code: 'UPLIFT_PLAN_UNKNOWN_CHANNEL', exitCode: 2 });
  });
});

describe('a stop at any patch of a release', () => {
  const levels = dedent`
    releases:
      - { version: 1.0 GA, kind: ga, ${pack('a.upk')} }
      - { version: 1.1 GA, kind: ga, ${pack('b.upk')}, durations: { migrate: { seconds: 300 } } }
      - { version: 1.1 Patch 1, kind: patch, ${pack('c.upk')}, durations: { migrate: { seconds: 200 } } }
      - { version: 1.1 Patch 2, kind: patch, ${pack('d.upk')}, durations: { migrate: { seconds: 100 } } }
      - { version: 1.2 GA, kind: ga, ${pack('e.upk')} }
  `;
  // The levels of 1.1 differ in downtime, so which one the planner takes never rests on a tie.
  const stop = (take: string, blocked = '') =>
    `upgrade:\n  requiredStops: [{ release: "1.1", take: ${take} }]${blocked ? `\n  blocked: [${blocked}]` : ''}`;

  it.each`
    case                                             | upgrade                                                              | from             | to               | path                         | verdict
    ${'prefers the latest patch'}                    | ${stop('any-patch')}                                                 | ${'1.0 GA'}      | ${'1.2 GA'}      | ${['1.1 Patch 2', '1.2 GA']} | ${'recommended'}
    ${'takes another patch when one is blocked'}     | ${stop('any-patch', '{ from: 1.1 Patch 2, to: 1.2 GA, reason: r }')} | ${'1.0 GA'}      | ${'1.2 GA'}      | ${['1.1 Patch 1', '1.2 GA']} | ${'recommended'}
    ${'takes the GA when every patch is blocked'}    | ${stop('any-patch', '{ from: ">1.1 GA", to: 1.2 GA, reason: r }')}   | ${'1.0 GA'}      | ${'1.2 GA'}      | ${['1.1 GA', '1.2 GA']}      | ${'recommended'}
    ${'is met by a target in the release'}           | ${stop('any-patch')}                                                 | ${'1.0 GA'}      | ${'1.1 Patch 1'} | ${['1.1 Patch 1']}           | ${'recommended'}
    ${'is met by an installed patch of the release'} | ${stop('any-patch')}                                                 | ${'1.1 Patch 1'} | ${'1.2 GA'}      | ${['1.2 GA']}                | ${'recommended'}
    ${'take: ga has no such way out (comparison)'}   | ${stop('ga', '{ from: 1.1 GA, to: 1.2 GA, reason: r }')}             | ${'1.0 GA'}      | ${'1.2 GA'}      | ${[]}                        | ${'blocked'}
  `('$case', async ({ upgrade, from, to, path, verdict }) => {
    const c = await demoCatalog(levels, upgrade, durations('{ seconds: 0 }'));

    const p = plan(c, linux, { from, to });

    expect(p.steps.map((s) => s.to)).toEqual(path);
    expect(p.verdict).toBe(verdict);
  });
});

describe('steps that are not uplift packs', () => {
  const withMethods = (methods: string) => dedent`
    releases:
      - { version: 1.0 GA, kind: ga }
      - version: 1.1 GA
        kind: ga
        methods: ${methods}
  `;

  it.each`
    case                                    | methods                                                                                                       | verdict                    | method
    ${'a package manager'}                  | ${'[{ package: { manager: apt, name: demo-server, version: 1.1.0-1 } }]'}                                     | ${'recommended'}           | ${{ kind: 'package', package: { manager: 'apt', name: 'demo-server', version: '1.1.0-1' } }}
    ${'a container image'}                  | ${`[{ image: { ref: "registry.example.com/demo:1.1", digest: "sha256:${'a'.repeat(64)}" } }]`}                | ${'recommended'}           | ${{ kind: 'image', image: { ref: 'registry.example.com/demo:1.1', digest: `sha256:${'a'.repeat(64)}` } }}
    ${'a vendor installer'}                 | ${`[{ installer: { file: demo-1.1-setup.bin, sha256: "${'b'.repeat(64)}", args: [--silent] } }]`}             | ${'recommended'}           | ${{ kind: 'installer', installer: { file: 'demo-1.1-setup.bin', sha256: 'b'.repeat(64), args: ['--silent'] } }}
    ${'a command'}                          | ${'[{ command: { argv: [/opt/demo/bin/upgrade, "--to", "1.1"] } }]'}                                          | ${'recommended'}           | ${{ kind: 'command', command: { argv: ['/opt/demo/bin/upgrade', '--to', '1.1'] } }}
    ${'the method for this platform'}       | ${'[{ platform: aix-power-64, command: { argv: [a] } }, { platform: linux-x86-64, command: { argv: [b] } }]'} | ${'recommended'}           | ${{ kind: 'command', platform: 'linux-x86-64', command: { argv: ['b'] } }}
    ${'only a method for another platform'} | ${'[{ platform: aix-power-64, command: { argv: [a] } }]'}                                                     | ${'possible-with-actions'} | ${undefined}
  `('$case: $verdict', async ({ methods, verdict, method }) => {
    const c = await demoCatalog(withMethods(methods), 'upgrade: {}', durations('{ seconds: 0 }'));

    const p = plan(c, linux);

    expect(p.verdict).toBe(verdict);
    expect(p.steps[0]?.method).toEqual(method);
    expect(p.steps[0]?.packProblem === undefined).toBe(method !== undefined);
    expect(p.manualActions.some((a) => a.source === 'pack')).toBe(method === undefined);
  });

  it('without a pack or a method the step still needs an action', async () => {
    const c = await demoCatalog(
      'releases:\n  - { version: 1.0 GA, kind: ga }\n  - { version: 1.1 GA, kind: ga }',
      'upgrade: {}',
      durations('{ seconds: 0 }'),
    );

    const p = plan(c, linux);

    expect(p.verdict).toBe('possible-with-actions');
    expect(p.steps[0]?.method).toBeUndefined();
  });
});
