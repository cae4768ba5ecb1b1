import { describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/index.ts';
import { sortVersions } from '../../src/versioning/index.ts';
import { runCliInProcess, runCliProcess } from '../util/run-cli.ts';

/**
 * The supported upgrade paths of the SecureTransport 5.5 Upgrade Guide ("Upgrade paths and
 * incompatibilities"), row by row. `latest <release>` stands for the newest level of that release,
 * which the test reads from the catalog's release list, not from the planner.
 */
/** The steps from 5.3.0 GA on, which both 5.2.1 rows of the guide list. */
const through530 = [
  '5.3.0 GA',
  '5.3.0 Patch 14',
  '5.3.1 GA',
  '5.3.3 GA',
  '5.3.6 GA',
  '5.4 GA',
  'latest 5.4',
  '5.5 GA',
] as const;

const table = [
  {
    installed: ['5.2.1 SP9'],
    prerequisite: null,
    steps: ['manual: Remove ST 5.2.1 SP9', ...through530],
  },
  {
    installed: 'release 5.2.1 up to 5.2.1 SP8',
    prerequisite: '5.2.1 SP8',
    steps: through530,
  },
  {
    installed: 'release 5.3.0',
    prerequisite: 'latest 5.3.0',
    steps: ['5.3.1 GA', '5.3.3 GA', '5.3.6 GA', '5.4 GA', 'latest 5.4', '5.5 GA'],
  },
  {
    installed: 'release 5.3.1',
    prerequisite: 'latest 5.3.1',
    steps: ['5.3.3 GA', '5.3.6 GA', '5.4 GA', 'latest 5.4', '5.5 GA'],
  },
  {
    installed: 'release 5.3.3',
    prerequisite: 'latest 5.3.3',
    steps: ['5.3.6 GA', '5.4 GA', 'latest 5.4', '5.5 GA'],
  },
  {
    installed: 'release 5.3.5',
    prerequisite: 'latest 5.3.5',
    steps: ['5.3.6 GA', '5.4 GA', 'latest 5.4', '5.5 GA'],
  },
  {
    installed: 'release 5.3.6',
    prerequisite: 'latest 5.3.6',
    steps: ['5.4 GA', 'latest 5.4', '5.5 GA'],
  },
  { installed: 'release 5.4', prerequisite: 'latest 5.4', steps: ['5.5 GA'] },
] as const;

const profile = await loadProfile('securetransport');
const { scheme, versions } = profile.catalog;
const levelsOf = (release: string) =>
  sortVersions(
    scheme,
    versions.filter((v) => scheme.releaseOf(v) === release),
  );
const latest = (release: string) => levelsOf(release).at(-1) as string;
const resolve = (step: string) =>
  step.startsWith('latest ') ? latest(step.slice('latest '.length)) : step;

function installedVersions(row: (typeof table)[number]): string[] {
  if (typeof row.installed !== 'string') return [...row.installed];
  const m = /^release (\S+)(?: up to (.+))?$/.exec(row.installed);
  const release = m?.[1] as string;
  const upTo = m?.[2];
  return levelsOf(release).filter((v) => upTo === undefined || scheme.compare(v, upTo) <= 0);
}

const cases = table.flatMap((row) => installedVersions(row).map((from) => ({ from, row })));

describe('uplift plan follows the documented SecureTransport path table', () => {
  it('covers every patch level of every documented row', () => {
    expect(cases.length).toBeGreaterThan(150);
    expect(levelsOf('5.3.0')).toHaveLength(15);
    expect(levelsOf('5.2.1').at(-1)).toBe('5.2.1 SP9');
  });

  it.each(cases.map((c) => [c.from, c.row] as const))('from %s to 5.5', async (from, row) => {
    const res = await runCliInProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      from,
      '--to',
      '5.5',
      '--format',
      'json',
    ]);

    expect(res.stderr).toBe('');
    const plan = JSON.parse(res.stdout);
    const prerequisite = row.prerequisite === null ? null : resolve(row.prerequisite);
    const expectedPrerequisite =
      prerequisite === null || scheme.equals(prerequisite, from) ? null : prerequisite;
    expect(plan.prerequisite?.to ?? null).toBe(expectedPrerequisite);
    const steps = plan.steps
      .filter((s: { stage: string }) => s.stage === 'upgrade')
      .map((s: { kind: string; title: string; to: string | null }) =>
        s.kind === 'manual' ? `manual: ${s.title}` : s.to,
      );
    expect(steps).toEqual(row.steps.map(resolve));
    expect(plan.to).toBe('5.5 GA');
    if (expectedPrerequisite)
      expect(plan.steps[0]).toMatchObject({
        kind: 'pack',
        stage: 'prerequisite',
        from,
        to: expectedPrerequisite,
      });
  });

  it('starts the 5.2.1 SP9 path with the manual removal, as a real process', () => {
    const res = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.2.1 SP9',
      '--to',
      '5.5',
      '--format',
      'json',
    ]);

    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    expect(plan.steps[0]).toMatchObject({ kind: 'manual', to: null, title: 'Remove ST 5.2.1 SP9' });
    expect(plan.steps[1]).toMatchObject({ kind: 'install', to: '5.3.0 GA' });
    expect(plan.verdict).not.toBe('recommended');
  });

  it('goes through 5.5 GA to reach the newest dated update', async () => {
    const res = await runCliInProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--to',
      'latest',
      '--format',
      'json',
    ]);

    const plan = JSON.parse(res.stdout);
    expect(plan.steps.map((s: { to: string }) => s.to)).toEqual([
      latest('5.4'),
      '5.5 GA',
      latest('5.5'),
    ]);
  });
});
