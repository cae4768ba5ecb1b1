import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../test/util/demo-catalog.ts';
import { renderPlanText } from '../cli/ui/render-plan.ts';
import { renderPlanMarkdown } from '../report/markdown.ts';
import { assemblePlan } from './assemble-plan.ts';
import { Plan } from './schema.ts';

/** Every pack hop costs 60 s of downtime. */
const durations = dedent`
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 0 }
    stop: { seconds: 0 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 0 }
    validate: { seconds: 0 }
    rollback: { seconds: 0 }
`;

const linux = { platform: { os: 'linux', id: 'linux-x86-64' } };
const pack = (file: string, from?: string) =>
  `packs: [{ platform: linux-x86-64, file: ${file}.upk, size: 1000${from ? `, from: "${from}"` : ''} }]`;
const releases = dedent`
  releases:
    - { version: 1.0 GA, kind: ga, ${pack('a')} }
    - { version: 1.0 Patch 1, kind: patch, ${pack('b')} }
    - { version: 1.0 Patch 2, kind: patch, ${pack('c')} }
    - { version: 1.1 GA, kind: ga, ${pack('d')} }
    - { version: 2.0 GA, kind: ga, ${pack('e', 'release:1.0 || release:1.1')} }
`;
/** Text as a reader sees it: no colours, whitespace collapsed (text wraps at 80 columns). */
const plain = (s: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
  s.replace(/\u001b\[[0-9;]*m/g, '').replace(/\s+/g, ' ');

describe('conditional edges in the plan', () => {
  const upgrade = dedent`
    upgrade:
      edges:
        - { from: "release:1.0", to: 2.0 GA, when: { fact: database.type, equals: postgresql } }
  `;

  it.each`
    facts                                             | verdict              | missing
    ${{ ...linux, database: { type: 'postgresql' } }} | ${'recommended'}     | ${undefined}
    ${linux}                                          | ${'not-recommended'} | ${['database.type']}
  `('an edge whose rule is $verdict', async ({ facts, verdict, missing }) => {
    const c = await demoCatalog(releases, upgrade, durations);

    const p = assemblePlan({ profile: 'demo', catalog: c, facts, from: '1.0 GA', to: '2.0 GA' });

    expect(p.steps.map((s) => s.to)).toEqual(['2.0 GA']);
    expect(p.verdict).toBe(verdict);
    expect(p.reasons.find((r) => r.code === 'edge-unknown')?.missingFacts).toEqual(missing);
  });
});

describe('hop-scoped incompatibilities in the plan', () => {
  const section = (severity: string) => dedent`
    incompatibilities:
      - id: direct-jump
        title: The direct hop from 1.0 rewrites the schema in one pass
        hops: { from: "release:1.0", to: "release:2.0" }
        when: { fact: data.rows, gt: 1000000 }
        severity: ${severity}
        action: Allow a day for the rewrite.
  `;
  const onlyDirect = dedent`
    upgrade:
      edges:
        - { from: "release:1.0", to: 2.0 GA }
  `;
  const rows = (n?: number) => ({ ...linux, ...(n === undefined ? {} : { data: { rows: n } }) });

  it.each`
    severity      | facts              | outcome             | verdict
    ${'action'}   | ${rows(5_000_000)} | ${'applies'}        | ${'possible-with-actions'}
    ${'blocking'} | ${rows()}          | ${'unknown'}        | ${'not-recommended'}
    ${'blocking'} | ${rows(10)}        | ${'does-not-apply'} | ${'recommended'}
  `(
    'lists a $severity risk on the hop it concerns ($outcome → $verdict)',
    async ({ severity, facts, outcome, verdict }) => {
      const c = await demoCatalog(releases, onlyDirect, section(severity), durations);

      const p = assemblePlan({ profile: 'demo', catalog: c, facts, from: '1.0 GA', to: '2.0 GA' });

      expect(p.incompatibilities).toMatchObject([
        {
          id: 'direct-jump',
          outcome,
          introducedIn: '2.0 GA',
          hop: { from: '1.0 GA', to: '2.0 GA' },
        },
      ]);
      expect(p.verdict).toBe(verdict);
      expect(() => Plan.parse(p)).not.toThrow();
    },
  );

  it('names the hop in the text and Markdown views', async () => {
    const c = await demoCatalog(releases, onlyDirect, section('action'), durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: rows(5_000_000),
      from: '1.0 GA',
      to: '2.0 GA',
    });

    expect(plain(renderPlanText(p))).toContain('direct-jump, on the hop 1.0 GA → 2.0 GA; applies');
    expect(plain(renderPlanMarkdown(p))).toContain('`direct-jump` (on the hop 1.0 GA → 2.0 GA)');
  });

  it('is blocked by a blocking risk that applies when there is no other way, naming it', async () => {
    const c = await demoCatalog(releases, onlyDirect, section('blocking'), durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: rows(5_000_000),
      from: '1.0 GA',
      to: '2.0 GA',
    });

    expect(p.verdict).toBe('blocked');
    expect(p.blockedBy).toEqual([
      {
        from: '1.0 GA',
        reason:
          'The direct hop from 1.0 rewrites the schema in one pass: Allow a day for the rewrite.',
      },
    ]);
  });

  it('does not concern a plan that routes around it', async () => {
    const c = await demoCatalog(
      releases,
      dedent`
        upgrade:
          edges:
            - { from: "release:1.0", to: 2.0 GA }
            - { from: "release:1.0", to: 1.1 GA }
            - { from: 1.1 GA, to: 2.0 GA }
      `,
      section('blocking'),
      durations,
    );

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: rows(),
      from: '1.0 GA',
      to: '2.0 GA',
    });

    expect(p.steps.map((s) => s.to)).toEqual(['1.1 GA', '2.0 GA']);
    expect(p.incompatibilities).toEqual([]);
    expect(p.verdict).toBe('recommended');
  });
});

describe('an installed version the catalog does not list', () => {
  const upgrade = dedent`
    upgrade:
      latestPatchFirst: true
      requiredStops:
        - { release: "1.1" }
  `;

  it.each`
    from             | path                    | after            | before
    ${'1.0 Patch 3'} | ${['1.1 GA', '2.0 GA']} | ${'1.0 Patch 2'} | ${'1.1 GA'}
    ${'0.9 GA'}      | ${['1.1 GA', '2.0 GA']} | ${null}          | ${'1.0 GA'}
    ${'1.0.5'}       | ${['1.1 GA', '2.0 GA']} | ${'1.0 Patch 2'} | ${'1.1 GA'}
  `('plans $from from its place after $after: $path', async ({ from, path, after, before }) => {
    const c = await demoCatalog(releases, upgrade, durations);

    const p = assemblePlan({ profile: 'demo', catalog: c, facts: linux, from, to: 'latest' });

    expect(p.from).toBe(from);
    expect(p.to).toBe('2.0 GA');
    expect(p.steps.map((s) => s.to)).toEqual(path);
    expect(p.steps[0]?.from).toBe(from);
    expect(p.installedNotInCatalog).toEqual({ after, before });
    expect(p.reasons).toContainEqual(expect.objectContaining({ code: 'installed-not-in-catalog' }));
    expect(() => Plan.parse(p)).not.toThrow();
  });

  it('picks the pack whose from pattern places the version', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: linux,
      from: '1.0 Patch 3',
      to: '2.0 GA',
    });

    expect(p.steps.map((s) => [s.from, s.to, s.pack?.file])).toEqual([
      ['1.0 Patch 3', '2.0 GA', 'e.upk'],
    ]);
    expect(p.verdict).toBe('recommended');
  });

  it('says "not in the catalog" in the text, Markdown and JSON views', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: linux,
      from: '1.0 Patch 3',
      to: '2.0 GA',
    });

    expect(plain(renderPlanText(p))).toContain('1.0 Patch 3 is not in the catalog');
    expect(plain(renderPlanMarkdown(p))).toContain('1.0 Patch 3 is not in the catalog');
    expect(JSON.parse(JSON.stringify(p)).installedNotInCatalog).toEqual({
      after: '1.0 Patch 2',
      before: '1.1 GA',
    });
  });

  it('leaves a listed installed version unflagged', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: linux,
      from: '1.0 Patch 2',
      to: '2.0 GA',
    });

    expect(p).not.toHaveProperty('installedNotInCatalog');
  });

  it.each`
    role           | from             | to
    ${'target'}    | ${'1.0 GA'}      | ${'1.0 Patch 3'}
    ${'installed'} | ${'1.0 Bogus 3'} | ${'2.0 GA'}
    ${'installed'} | ${'2.0 Patch 1'} | ${'2.0 GA'}
  `(
    'still refuses an unlisted $role version $from → $to (a target, unreadable, or above the newest)',
    async ({ from, to }) => {
      const c = await demoCatalog(releases, 'upgrade: {}', durations);

      expect(() => assemblePlan({ profile: 'demo', catalog: c, facts: linux, from, to })).toThrow(
        expect.objectContaining({ code: 'UPLIFT_PLAN_UNKNOWN_VERSION' }),
      );
    },
  );

  it('is up to date when the target is the same unlisted version', async () => {
    const c = await demoCatalog(releases, 'upgrade: {}', durations);

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: linux,
      from: '1.0 Patch 3',
      to: '1.0 Patch 3',
    });

    expect(p.verdict).toBe('up-to-date');
  });
});
