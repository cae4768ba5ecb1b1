import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../test/util/demo-catalog.ts';
import type { Facts, LoadedCatalog } from '../catalog/index.ts';
import { assemblePlan, type PlanRequest } from './assemble-plan.ts';
import { isPlanIntact } from './hash.ts';
import type { Plan } from './schema.ts';

/**
 * A pack hop costs stop 10 + apply 60 + migrate (300 per million data.rows) + start 20 seconds;
 * packs download at 1000 bytes per second.
 */
const durations = dedent`
  durations:
    downloadBytesPerSecond: 1000
    backupNeedsStop: false
    backup: { seconds: 60, per: [{ fact: data.installBytes, unit: 1000000000, seconds: 120 }] }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0, per: [{ fact: data.rows, unit: 1000000, seconds: 300 }] }
    start: { seconds: 20 }
    validate: { seconds: 600 }
    rollback: { seconds: 120 }
`;

/** A demo catalog from top-level sections (releases, upgrade, …), with the durations above. */
const catalog = (...sections: string[]) => demoCatalog(...sections, durations);

const linux = { platform: { os: 'linux', id: 'linux-x86-64' } };

function plan(c: LoadedCatalog, req: Partial<PlanRequest> & { from: string | undefined }): Plan {
  return assemblePlan({ profile: 'demo', catalog: c, facts: linux, to: 'latest', ...req });
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

/** 5.3.0 GA … 5.5 GA with one linux pack per release, and an empty upgrade section. */
const plainReleases = dedent`
  releases:
    - { version: 5.3.0 GA, kind: ga, packs: [{ platform: linux-x86-64, file: a.upk, size: 5000 }] }
    - { version: 5.3.0 Patch 1, kind: patch, packs: [{ platform: linux-x86-64, file: b.upk, size: 1000 }] }
    - { version: 5.3.0 Patch 2, kind: patch, packs: [{ platform: linux-x86-64, file: c.upk, size: 2000 }] }
    - { version: 5.4 GA, kind: ga, packs: [{ platform: linux-x86-64, file: d.upk, size: 20000 }] }
    - { version: 5.5 GA, kind: ga, packs: [{ platform: linux-x86-64, file: e.upk, size: 40000 }] }
`;

describe('assemblePlan', () => {
  describe('the request', () => {
    it("resolves to: 'latest' to the newest release", async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const p = plan(c, { from: '5.3.0 Patch 2' });

      expect(p.to).toBe('5.5 GA');
      expect(p.target).toEqual({ requested: 'latest', resolved: '5.5 GA' });
      expect(p.steps.at(-1)?.to).toBe('5.5 GA');
    });

    it('spells from and to as the catalog does', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const p = plan(c, { from: '5.3.0 patch 2', to: '5.4.0' });

      expect([p.from, p.to]).toEqual(['5.3.0 Patch 2', '5.4 GA']);
      expect(p.target).toEqual({ requested: '5.4.0', resolved: '5.4 GA' });
    });

    it('takes the installed version from the facts when from is not given', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const p = assemblePlan({
        profile: 'demo',
        catalog: c,
        facts: { ...linux, version: '5.4' },
        from: undefined,
        to: '5.5 GA',
      });

      expect(p.from).toBe('5.4 GA');
    });

    it.each`
      from        | to
      ${'5.4 GA'} | ${'5.4 GA'}
      ${'5.4'}    | ${'5.4.0 GA'}
      ${'5.5 GA'} | ${'latest'}
    `('is up-to-date from $from to $to, with no steps', async ({ from, to }) => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const p = plan(c, { from, to });

      expect(p.verdict).toBe('up-to-date');
      expect(p.steps).toEqual([]);
      expect(p.tasks).toEqual([]);
      expect(p.estimate).toMatchObject({ packHops: 0, downtimeSeconds: 0, windowSeconds: 0 });
      expect(p.reasons).toMatchObject([{ code: 'up-to-date' }]);
    });

    it('refuses a downgrade', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const err = thrown(() => plan(c, { from: '5.5 GA', to: '5.4 GA' }));

      expect(err).toMatchObject({
        code: 'UPLIFT_PLAN_DOWNGRADE',
        exitCode: 2,
        hint: expect.stringMatching(/\S/),
      });
    });

    it.each`
      from          | to
      ${'9.9 GA'}   | ${'latest'}
      ${'5.3.0 GA'} | ${'5.3.0 Patch 9'}
      ${'banana'}   | ${'5.5 GA'}
      ${''}         | ${'5.5 GA'}
      ${'5.3.0 GA'} | ${'5.3.6 GA'}
      ${'5.3.0 GA'} | ${'newest'}
    `(
      'refuses the unknown version in $from → $to (an unlisted installed version is placed: path-rules.test.ts)',
      async ({ from, to }) => {
        const c = await catalog(plainReleases, 'upgrade: {}');

        const err = thrown(() => plan(c, { from, to }));

        expect(err).toMatchObject({
          code: 'UPLIFT_PLAN_UNKNOWN_VERSION',
          exitCode: 2,
          hint: expect.stringMatching(/\S/),
        });
      },
    );

    it('refuses a request without an installed version', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const err = thrown(() => plan(c, { from: undefined }));

      expect(err).toMatchObject({ code: 'UPLIFT_USAGE', exitCode: 2 });
    });
  });

  describe('the path', () => {
    const releases = dedent`
      releases:
        - { version: 5.2.1 GA, kind: ga, packs: [{ platform: linux-x86-64, file: a.upk, size: 1000 }] }
        - { version: 5.2.1 SP8, kind: service-pack, packs: [{ platform: linux-x86-64, file: b.upk, size: 1000 }] }
        - { version: 5.2.1 SP9, kind: service-pack, packs: [{ platform: linux-x86-64, file: c.upk, size: 1000 }] }
        - { version: 5.3.0 GA, kind: ga, packs: [{ platform: linux-x86-64, file: d.upk, size: 1000 }] }
        - { version: 5.3.0 Patch 1, kind: patch, packs: [{ platform: linux-x86-64, file: e.upk, size: 1000 }] }
        - { version: 5.3.6 GA, kind: ga, packs: [{ platform: linux-x86-64, file: f.upk, size: 1000 }] }
        - { version: 5.4 GA, kind: ga, packs: [{ platform: linux-x86-64, file: g.upk, size: 1000 }] }
    `;
    const upgrade = dedent`
      upgrade:
        latestPatchFirst: true
        prerequisites:
          - { release: "5.2.1", target: 5.2.1 SP8, reason: SP8 is the last 5.2.1 level 5.3 reads }
        requiredStops:
          - release: "5.3.6"
            when: { fact: data.rows, gt: 5000000 }
            reason: large tables migrate in two passes
        blocked:
          - { from: 5.2.1 SP9, reason: upgrading from 5.2.1 SP9 loses data, link: https://example.com/kb/9 }
        manualSteps:
          - { id: remove-sp9, title: Remove 5.2.1 SP9, from: 5.2.1 SP9, continueAt: 5.3.0 GA, minutes: 90 }
    `;
    const rows = (n: number) => ({ ...linux, data: { rows: n } });

    it('makes the latest-patch-first hop a prerequisite step', async () => {
      const c = await catalog(releases, upgrade);

      const p = plan(c, { from: '5.3.0 GA', to: '5.4 GA', facts: rows(1000) });

      expect(p.steps.map((s) => [s.index, s.stage, s.kind, s.from, s.to])).toEqual([
        [1, 'prerequisite', 'pack', '5.3.0 GA', '5.3.0 Patch 1'],
        [2, 'upgrade', 'pack', '5.3.0 Patch 1', '5.4 GA'],
      ]);
      expect(p.prerequisite).toEqual({ to: '5.3.0 Patch 1', reason: expect.any(String) });
      expect(p.verdict).toBe('recommended');
    });

    it('takes the prerequisite override (5.2.1 → SP8, not SP9)', async () => {
      const c = await catalog(releases, upgrade);

      const p = plan(c, { from: '5.2.1 GA', to: '5.4 GA', facts: rows(1000) });

      expect(p.prerequisite).toEqual({
        to: '5.2.1 SP8',
        reason: 'SP8 is the last 5.2.1 level 5.3 reads',
      });
      expect(p.steps.map((s) => s.to)).toEqual(['5.2.1 SP8', '5.4 GA']);
    });

    it('has no prerequisite when the installed version needs none', async () => {
      const c = await catalog(releases, upgrade);

      const p = plan(c, { from: '5.3.0 Patch 1', to: '5.4 GA', facts: rows(1000) });

      expect(p.prerequisite).toBeNull();
      expect(p.steps.map((s) => s.stage)).toEqual(['upgrade']);
    });

    it('leaves a blocked version by its manual step, then installs continueAt', async () => {
      const c = await catalog(releases, upgrade);

      const p = plan(c, { from: '5.2.1 SP9', to: '5.4 GA', facts: rows(1000) });

      expect(p.steps).toMatchObject([
        {
          index: 1,
          kind: 'manual',
          from: '5.2.1 SP9',
          to: null,
          pack: null,
          manual: { id: 'remove-sp9' },
        },
        {
          index: 2,
          kind: 'install',
          from: null,
          to: '5.3.0 GA',
          reason: { code: 'after-manual-step' },
        },
        { index: 3, kind: 'pack', from: '5.3.0 GA', to: '5.4 GA' },
      ]);
      expect(p.steps[0]?.estimate.phases.manual).toBe(90 * 60);
      expect(p.estimate).toMatchObject({ packHops: 2, manualSteps: 1 });
      expect(p.verdict).toBe('possible-with-actions');
      expect(p.reasons).toContainEqual(expect.objectContaining({ code: 'manual-step' }));
      expect(p.manualActions).toContainEqual({
        source: 'manual-step',
        id: 'remove-sp9',
        text: 'Remove 5.2.1 SP9',
      });
    });

    it('is blocked when no path is left, quoting the block', async () => {
      const c = await catalog(releases, upgrade.replace(/ {2}manualSteps:\n.*\n?/, ''));

      const p = plan(c, { from: '5.2.1 SP9', to: '5.4 GA', facts: rows(1000) });

      expect(p.verdict).toBe('blocked');
      expect(p.steps).toEqual([]);
      expect(p.blockedBy).toEqual([
        {
          from: '5.2.1 SP9',
          reason: 'upgrading from 5.2.1 SP9 loses data',
          link: 'https://example.com/kb/9',
        },
      ]);
      expect(p.reasons[0]).toMatchObject({ code: 'no-path' });
    });

    it.each`
      facts            | outcome             | path                                       | verdict
      ${rows(6000000)} | ${'applies'}        | ${['5.3.0 Patch 1', '5.3.6 GA', '5.4 GA']} | ${'recommended'}
      ${rows(1000)}    | ${'does-not-apply'} | ${['5.3.0 Patch 1', '5.4 GA']}             | ${'recommended'}
      ${linux}         | ${'unknown'}        | ${['5.3.0 Patch 1', '5.3.6 GA', '5.4 GA']} | ${'not-recommended'}
    `(
      'keeps the conditional stop when it $outcome (verdict $verdict)',
      async ({ facts, outcome, path, verdict }) => {
        const c = await catalog(releases, upgrade);

        const p = plan(c, { from: '5.3.0 GA', to: '5.4 GA', facts });

        expect(p.steps.map((s) => s.to)).toEqual(path);
        expect(p.conditionalStops).toEqual([
          {
            version: '5.3.6 GA',
            reason: 'large tables migrate in two passes',
            outcome,
            missingFacts: outcome === 'unknown' ? ['data.rows'] : [],
          },
        ]);
        expect(p.verdict).toBe(verdict);
      },
    );

    it('marks the hop to a conditional stop and names the missing fact when it is unknown', async () => {
      const c = await catalog(releases, upgrade);

      const p = plan(c, { from: '5.3.0 Patch 1', to: '5.4 GA', facts: linux });

      expect(p.steps[0]?.reason.code).toBe('conditional-stop');
      expect(p.reasons).toContainEqual(
        expect.objectContaining({ code: 'conditional-stop-unknown', missingFacts: ['data.rows'] }),
      );
    });
  });

  describe('packs', () => {
    const releases = dedent`
      releases:
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.3.6 GA, kind: ga }
        - version: 5.4 GA
          kind: ga
          packs:
            - { platform: linux-x86-64, file: st-5.4-from-5.3.0.upk, size: 20000, from: "release:5.3.0" }
            - { platform: linux-x86-64, file: st-5.4-from-5.3.6.upk, size: 10000, from: "release:5.3.6", sha256: ${'a'.repeat(64)} }
            - { platform: aix-power-64, file: st-5.4-aix.upk, size: 30000 }
    `;

    it.each`
      from          | platform          | file
      ${'5.3.0 GA'} | ${'linux-x86-64'} | ${'st-5.4-from-5.3.0.upk'}
      ${'5.3.6 GA'} | ${'linux-x86-64'} | ${'st-5.4-from-5.3.6.upk'}
      ${'5.3.0 GA'} | ${'aix-power-64'} | ${'st-5.4-aix.upk'}
      ${'5.3.6 GA'} | ${'aix-power-64'} | ${'st-5.4-aix.upk'}
    `('picks $file from $from on $platform', async ({ from, platform, file }) => {
      const c = await catalog(releases, 'upgrade: {}');

      const p = plan(c, { from, to: '5.4 GA', facts: { platform: { id: platform } } });

      expect(p.steps).toHaveLength(1);
      expect(p.steps[0]?.pack?.file).toBe(file);
      expect(p.steps[0]?.packProblem).toBeUndefined();
      expect(p.facts.platform).toBe(platform);
      expect(p.verdict).toBe('recommended');
    });

    it('carries the pack details and its download into the plan', async () => {
      const c = await catalog(releases, 'upgrade: {}');

      const p = plan(c, { from: '5.3.6 GA', to: '5.4 GA' });

      expect(p.steps[0]?.pack).toEqual({
        platform: 'linux-x86-64',
        file: 'st-5.4-from-5.3.6.upk',
        size: 10000,
        sha256: 'a'.repeat(64),
        md5: undefined,
        url: undefined,
      });
      expect(p.steps[0]?.estimate.phases.download).toBe(10);
      expect(p.estimate).toMatchObject({ downloadBytes: 10000, downloadSeconds: 10 });
    });

    it.each`
      facts                                     | platform
      ${{ platform: { id: 'windows-x86-64' } }} | ${'windows-x86-64'}
      ${{}}                                     | ${null}
      ${{ platform: { os: 'linux' } }}          | ${null}
    `('reports a missing pack for platform $platform as an action', async ({ facts, platform }) => {
      const c = await catalog(releases, 'upgrade: {}');

      const p = plan(c, { from: '5.3.0 GA', to: '5.4 GA', facts });

      expect(p.facts.platform).toBe(platform);
      expect(p.steps[0]).toMatchObject({ pack: null, packProblem: expect.stringMatching(/\S/) });
      expect(p.verdict).toBe('possible-with-actions');
      expect(p.reasons).toContainEqual(expect.objectContaining({ code: 'pack-missing' }));
      expect(p.manualActions).toContainEqual(
        expect.objectContaining({ source: 'pack', id: 'step-1' }),
      );
    });

    it('offers every pack of the release to the install after a manual step', async () => {
      const c = await catalog(
        releases,
        dedent`
          upgrade:
            manualSteps:
              - { id: reinstall, title: Reinstall, from: 5.3.0 GA, continueAt: 5.4 GA }
            blocked:
              - { from: 5.3.0 GA, reason: reinstall instead }
        `,
      );

      const p = plan(c, { from: '5.3.0 GA', to: '5.4 GA' });

      expect(p.steps.map((s) => [s.kind, s.pack?.file ?? null])).toEqual([
        ['manual', null],
        ['install', 'st-5.4-from-5.3.0.upk'],
      ]);
    });
  });

  describe('estimate', () => {
    const releases = dedent`
      releases:
        - { version: 5.3.0 GA, kind: ga }
        - { version: 5.4 GA, kind: ga, packs: [{ platform: linux-x86-64, file: d.upk, size: 20000 }] }
        - version: 5.5 GA
          kind: ga
          packs: [{ platform: linux-x86-64, file: e.upk, size: 40000 }]
          durations:
            migrate: { seconds: 100 }
            validate: { seconds: 900 }
    `;

    it.each`
      rows       | installBytes  | migrate | backup | downtime | window
      ${0}       | ${0}          | ${0}    | ${60}  | ${90}    | ${810}
      ${2000000} | ${2000000000} | ${600}  | ${300} | ${690}   | ${1410}
      ${4000000} | ${1000000000} | ${1200} | ${180} | ${1290}  | ${2010}
    `(
      'scales with $rows rows and $installBytes bytes',
      async ({ rows, installBytes, migrate, backup, downtime, window }) => {
        const c = await catalog(releases, 'upgrade: {}');

        const p = plan(c, {
          from: '5.3.0 GA',
          to: '5.4 GA',
          facts: { ...linux, data: { rows, installBytes } },
        });

        expect(p.steps[0]?.estimate).toEqual({
          phases: { download: 20, stop: 10, apply: 60, migrate, start: 20, manual: 0 },
          downtimeSeconds: downtime,
        });
        expect(p.estimate).toEqual({
          packHops: 1,
          manualSteps: 0,
          downloadSeconds: 20,
          backupSeconds: backup,
          downtimeSeconds: downtime,
          validationSeconds: 600,
          rollbackSeconds: 120,
          windowSeconds: window,
          downloadBytes: 20000,
          assumptions: [],
        });
      },
    );

    it('names each missing scaling fact once among the assumptions', async () => {
      const c = await catalog(
        plainReleases,
        'upgrade:\n  requiredStops:\n    - { release: "5.4" }',
      );

      const p = plan(c, { from: '5.3.0 Patch 2', to: '5.5 GA', facts: linux });

      expect(p.estimate.packHops).toBe(2);

      expect(p.estimate.assumptions).toEqual([
        expect.stringContaining('data.installBytes'),
        expect.stringContaining('data.rows'),
      ]);
    });

    it('counts a fact that is not a number as missing', async () => {
      const c = await catalog(releases, 'upgrade: {}');

      const p = plan(c, {
        from: '5.3.0 GA',
        to: '5.4 GA',
        facts: { ...linux, data: { rows: 'many', installBytes: 0 } },
      });

      expect(p.steps[0]?.estimate.phases.migrate).toBe(0);
      expect(p.estimate.assumptions).toEqual([expect.stringContaining('data.rows')]);
    });

    it('uses the durations of the release a hop reaches, and the target release for validation', async () => {
      const c = await catalog(releases, 'upgrade: {}');

      const p = plan(c, {
        from: '5.4 GA',
        to: '5.5 GA',
        facts: { ...linux, data: { rows: 9000000, installBytes: 0 } },
      });

      expect(p.steps[0]?.estimate.phases.migrate).toBe(100);
      expect(p.estimate.validationSeconds).toBe(900);
    });

    it('counts the backup as downtime when the vendor requires a stop', async () => {
      const c = await catalog(releases, 'upgrade: {}');
      const stopped = await demoCatalog(
        releases,
        'upgrade: {}',
        durations.replace('backupNeedsStop: false', 'backupNeedsStop: true'),
      );
      const facts = { ...linux, data: { rows: 0, installBytes: 0 } };

      const running = plan(c, { from: '5.3.0 GA', to: '5.4 GA', facts });
      const needsStop = plan(stopped, { from: '5.3.0 GA', to: '5.4 GA', facts });

      expect(needsStop.estimate.downtimeSeconds).toBe(running.estimate.downtimeSeconds + 60);
    });

    it('takes the downtime an edge states over the estimate', async () => {
      const c = await catalog(
        releases,
        'upgrade:\n  edges:\n    - { from: 5.3.0 GA, to: 5.4 GA, downtimeMinutes: 45 }',
      );

      const p = plan(c, {
        from: '5.3.0 GA',
        to: '5.4 GA',
        facts: { ...linux, data: { rows: 0, installBytes: 0 } },
      });

      expect(p.steps[0]?.estimate.downtimeSeconds).toBe(45 * 60);
      expect(p.estimate.downtimeSeconds).toBe(45 * 60);
    });
  });

  describe('external prerequisites', () => {
    const section = dedent`
      externalPrerequisites:
        - id: postgresql-12
          title: External PostgreSQL 12 or later
          system: database
          appliesWhen: { fact: database.type, equals: postgresql }
          require: { fact: database.version, versionAtLeast: "12" }
          introducedIn: 5.4 GA
          action: Upgrade PostgreSQL to 12 or later.
    `;

    it.each`
      database                                   | status              | missingFacts                             | verdict
      ${{ type: 'postgresql', version: '13.2' }} | ${'satisfied'}      | ${[]}                                    | ${'recommended'}
      ${{ type: 'PostgreSQL', version: '9.6' }}  | ${'violated'}       | ${[]}                                    | ${'blocked'}
      ${{ type: 'postgresql' }}                  | ${'unknown'}        | ${['database.version']}                  | ${'not-recommended'}
      ${{}}                                      | ${'unknown'}        | ${['database.type', 'database.version']} | ${'not-recommended'}
      ${{ type: 'sqlite' }}                      | ${'not-applicable'} | ${[]}                                    | ${'recommended'}
    `('is $status for $database', async ({ database, status, missingFacts, verdict }) => {
      const c = await catalog(plainReleases, 'upgrade: {}', section);

      const p = plan(c, { from: '5.3.0 Patch 2', to: '5.4 GA', facts: { ...linux, database } });

      expect(p.externalPrerequisites).toMatchObject([
        { id: 'postgresql-12', system: 'database', severity: 'blocking', status, missingFacts },
      ]);
      expect(p.verdict).toBe(verdict);
    });

    it('records the facts it read as evidence', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}', section);

      const p = plan(c, {
        from: '5.3.0 Patch 2',
        to: '5.4 GA',
        facts: { ...linux, database: { type: 'postgresql', version: '9.6' } },
      });

      expect(p.externalPrerequisites[0]?.evidence).toEqual({
        'database.type': 'postgresql',
        'database.version': '9.6',
      });
      expect(p.reasons[0]).toMatchObject({ code: 'prerequisite-violated' });
      expect(p.manualActions).toContainEqual({
        source: 'prerequisite',
        id: 'postgresql-12',
        text: 'Upgrade PostgreSQL to 12 or later.',
      });
    });

    it('asks for an action when a violated prerequisite has severity action', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}', `${section}\n    severity: action`);

      const p = plan(c, {
        from: '5.3.0 Patch 2',
        to: '5.4 GA',
        facts: { ...linux, database: { type: 'postgresql', version: '9.6' } },
      });

      expect(p.externalPrerequisites[0]).toMatchObject({ status: 'violated', severity: 'action' });
      expect(p.verdict).toBe('possible-with-actions');
    });

    it('leaves out a prerequisite introduced after the target', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}', section);

      const p = plan(c, {
        from: '5.3.0 GA',
        to: '5.3.0 Patch 2',
        facts: { ...linux, database: { type: 'postgresql', version: '9.6' } },
      });

      expect(p.externalPrerequisites).toEqual([]);
      expect(p.verdict).toBe('recommended');
    });
  });

  describe('incompatibilities', () => {
    const section = (severity: string) => dedent`
      incompatibilities:
        - id: proxy-direct-fallback
          title: No direct connections when the proxy is down
          introducedIn: 5.4 GA
          when:
            all:
              - { fact: network.proxyConfigured, equals: true }
              - { fact: settings.Direct.Connection.When.Proxy.Down, notEquals: true }
          severity: ${severity}
          action: Set Direct.Connection.When.Proxy.Down=true.
    `;
    const proxy = (down?: boolean) => ({
      ...linux,
      network: { proxyConfigured: 'true' },
      settings: down === undefined ? {} : { 'Direct.Connection.When.Proxy.Down': down },
    });

    it.each`
      severity      | facts           | outcome             | verdict
      ${'action'}   | ${proxy(false)} | ${'applies'}        | ${'possible-with-actions'}
      ${'blocking'} | ${proxy(false)} | ${'applies'}        | ${'blocked'}
      ${'info'}     | ${proxy(false)} | ${'applies'}        | ${'recommended'}
      ${'action'}   | ${proxy(true)}  | ${'does-not-apply'} | ${'recommended'}
      ${'action'}   | ${proxy()}      | ${'unknown'}        | ${'not-recommended'}
    `('$severity: $outcome gives $verdict', async ({ severity, facts, outcome, verdict }) => {
      const c = await catalog(plainReleases, 'upgrade: {}', section(severity));

      const p = plan(c, { from: '5.3.0 Patch 2', to: '5.5 GA', facts });

      expect(p.incompatibilities).toMatchObject([
        { id: 'proxy-direct-fallback', introducedIn: '5.4 GA', outcome },
      ]);
      expect(p.verdict).toBe(verdict);
    });

    it('names the missing fact of an unknown outcome', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}', section('action'));

      const p = plan(c, { from: '5.3.0 Patch 2', to: '5.5 GA', facts: proxy() });

      expect(p.incompatibilities[0]?.missingFacts).toEqual([
        'settings.Direct.Connection.When.Proxy.Down',
      ]);
      expect(p.reasons).toContainEqual(
        expect.objectContaining({
          code: 'incompatibility-unknown',
          missingFacts: ['settings.Direct.Connection.When.Proxy.Down'],
        }),
      );
    });

    it.each`
      from               | to                 | listed
      ${'5.3.0 Patch 2'} | ${'5.4 GA'}        | ${true}
      ${'5.3.0 GA'}      | ${'5.5 GA'}        | ${true}
      ${'5.4 GA'}        | ${'5.5 GA'}        | ${false}
      ${'5.3.0 GA'}      | ${'5.3.0 Patch 2'} | ${false}
    `('concerns $from → $to only when it crosses 5.4 GA: $listed', async ({ from, to, listed }) => {
      const c = await catalog(plainReleases, 'upgrade: {}', section('blocking'));

      const p = plan(c, { from, to, facts: proxy(false) });

      expect(p.incompatibilities.length > 0).toBe(listed);
    });
  });

  describe('tasks', () => {
    const section = dedent`
      tasks:
        - { id: backup, title: Back up the installation, check: backup }
        - { id: aix-ulimit, title: Raise the file ulimit, when: { fact: platform.os, equals: aix } }
        - { id: scheduler-paused, title: Keep the scheduler paused between hops, chainedOnly: true }
    `;

    it.each`
      facts                                              | to                 | tasks
      ${linux}                                           | ${'5.3.0 Patch 2'} | ${['backup']}
      ${linux}                                           | ${'5.5 GA'}        | ${['backup', 'scheduler-paused']}
      ${{ platform: { os: 'AIX', id: 'aix-power-64' } }} | ${'5.3.0 Patch 2'} | ${['backup', 'aix-ulimit']}
      ${{ platform: { id: 'linux-x86-64' } }}            | ${'5.3.0 Patch 2'} | ${['backup', 'aix-ulimit']}
    `('for $facts up to $to lists $tasks', async ({ facts, to, tasks }) => {
      const c = await catalog(
        plainReleases,
        'upgrade:\n  requiredStops:\n    - { release: "5.4" }',
        section,
      );

      const p = plan(c, { from: '5.3.0 Patch 1', to, facts });

      expect(p.tasks.map((t) => t.id)).toEqual(tasks);
    });

    it('lists tasks without a check among the manual actions', async () => {
      const c = await catalog(
        plainReleases,
        'upgrade:\n  requiredStops:\n    - { release: "5.4" }',
        section,
      );

      const p = plan(c, { from: '5.3.0 Patch 2', to: '5.5 GA' });

      expect(p.manualActions.filter((a) => a.source === 'task')).toEqual([
        { source: 'task', id: 'scheduler-paused', text: 'Keep the scheduler paused between hops' },
      ]);
    });
  });

  describe('notes', () => {
    it('digests the notes of the path and counts security fixes as information', async () => {
      const c = await catalog(
        dedent`
          releases:
            - { version: 5.3.0 GA, kind: ga }
            - version: 5.4 GA
              kind: ga
              packs: [{ platform: linux-x86-64, file: d.upk, size: 1000 }]
              notes:
                fixed:
                  - { id: D-1, title: Path traversal, security: true }
        `,
        'upgrade: {}',
      );

      const p = plan(c, { from: '5.3.0 GA', to: '5.4 GA' });

      expect(p.notes.releases).toEqual(['5.4 GA']);
      expect(p.notes.entries).toMatchObject([{ id: 'D-1', security: true }]);
      expect(p.verdict).toBe('recommended');
      expect(p.reasons).toContainEqual(expect.objectContaining({ code: 'security-fixes' }));
    });
  });

  describe('hash', () => {
    const facts: Facts = { ...linux, data: { rows: 1000 } };

    it('is the same for the same inputs, whatever the order of the facts', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');
      const reordered: Facts = {
        data: { rows: 1000 },
        platform: { id: 'linux-x86-64', os: 'linux' },
      };

      const a = plan(c, { from: '5.3.0 GA', facts });
      const b = plan(c, { from: '5.3.0 GA', facts: reordered });

      expect(a.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(b.hash).toBe(a.hash);
      expect(b).toEqual(a);
    });

    it('changes with the facts', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');

      const a = plan(c, { from: '5.3.0 GA', facts });
      const b = plan(c, { from: '5.3.0 GA', facts: { ...facts, data: { rows: 1001 } } });

      expect(b.facts.digest).not.toBe(a.facts.digest);
      expect(b.hash).not.toBe(a.hash);
    });

    it('changes with the catalog', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');
      const other = await catalog(plainReleases, 'upgrade: {}', 'tasks: []');

      const a = plan(c, { from: '5.3.0 GA', facts });
      const b = plan(other, { from: '5.3.0 GA', facts });

      expect(b.catalog.digest).not.toBe(a.catalog.digest);
      expect(b.hash).not.toBe(a.hash);
    });

    it('lets isPlanIntact accept the plan read back from JSON and detect a tampered one', async () => {
      const c = await catalog(plainReleases, 'upgrade: {}');
      const p = plan(c, { from: '5.3.0 GA', facts });
      const otherVerdict: Plan = { ...p, verdict: 'blocked' };
      const otherStep = structuredClone(p);
      if (otherStep.steps[0]) otherStep.steps[0].to = '5.4 GA';
      const otherHash = { ...p, hash: `sha256:${'0'.repeat(64)}` };

      const roundTripped = JSON.parse(JSON.stringify(p)) as Plan;

      const results = [p, roundTripped, otherVerdict, otherStep, otherHash].map(isPlanIntact);

      expect(results).toEqual([true, true, false, false, false]);
    });
  });
});
