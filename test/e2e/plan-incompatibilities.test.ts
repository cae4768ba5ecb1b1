import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/catalog/index.ts';
import { assemblePlan } from '../../src/plan/index.ts';
import { loadProfile } from '../../src/profile/index.ts';
import { runCliProcess } from '../util/run-cli.ts';

/**
 * Every incompatibility and outside prerequisite the SecureTransport guide documents switches on
 * and off with the installation's facts, and a missing fact makes the plan "not recommended",
 * naming the fact. Runs the real profile's catalog through the real planner.
 */
const profile = await loadProfile('securetransport');

/** A Linux standalone installation on which none of the documented items applies. */
const quiet: Facts = {
  product: 'securetransport',
  platform: { os: 'linux', arch: 'x86-64', id: 'linux-x86-64' },
  deployment: 'standalone',
  database: { type: 'embedded', external: false },
  data: { fileTrackingRows: 0, installBytes: 5e9, databaseBytes: 1e9 },
  network: { proxyConfigured: false },
  settings: { 'Direct.Connection.When.Proxy.Down': false },
  security: { customCipherSets: false, javaSecurityCustomized: false, repositoryEncryption: false },
  startScripts: { customized: false, configFilePresent: false },
  brules: { customized: false },
  protocols: { enabled: ['ssh'] },
  transferSites: { types: ['ssh'] },
  features: { advancedRouting: false },
  auth: { ldap: false },
  centralGovernance: { registered: false },
};

function plan(facts: Facts, from = '5.3.0 Patch 14', to = '5.5') {
  return assemblePlan({ profile: 'securetransport', catalog: profile.catalog, facts, from, to });
}

function withFact(facts: Facts, path: string, value: unknown): Facts {
  const out = structuredClone(facts) as Record<string, unknown>;
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  out[head] ??= {};
  const node = out[head] as Record<string, unknown>;
  if (value === undefined) delete node[rest.join('.')];
  else node[rest.join('.')] = value;
  return out as Facts;
}

/** Each documented incompatibility and the one fact that switches it on (with the value that does). */
const documented = [
  { id: 'file-tracking-migration', fact: 'data.fileTrackingRows', value: 250000 },
  { id: 'cipher-set-changes', fact: 'security.customCipherSets', value: true },
  { id: 'proxy-direct-connection', fact: 'network.proxyConfigured', value: true },
  { id: 'start-scripts-not-preserved', fact: 'startScripts.customized', value: true },
  { id: 'java-security-disabled-algorithms', fact: 'security.javaSecurityCustomized', value: true },
  { id: 'brules-not-preserved', fact: 'brules.customized', value: true },
] as const;

describe('documented incompatibilities switch with the facts', () => {
  it('the quiet installation has none that applies, and a clean verdict', () => {
    const p = plan(quiet);

    expect(
      p.incompatibilities.filter((i) => i.outcome !== 'does-not-apply' && i.severity !== 'info'),
    ).toEqual([]);
    expect(p.verdict).toBe('recommended');
  });

  it.each(documented)(
    '$id applies when its facts say so, with its action',
    ({ id, fact, value }) => {
      const p = plan(withFact(quiet, fact, value));

      const inc = p.incompatibilities.find((i) => i.id === id);
      expect(inc).toMatchObject({ outcome: 'applies', severity: 'action' });
      expect(p.verdict).toBe('possible-with-actions');
      expect(p.manualActions).toContainEqual(
        expect.objectContaining({ source: 'incompatibility', id }),
      );
      expect(Object.keys(inc?.evidence ?? {})).toContain(fact);
    },
  );

  it.each(documented)('$id does not apply to the quiet installation', ({ id }) => {
    expect(plan(quiet).incompatibilities.find((i) => i.id === id)?.outcome).toBe('does-not-apply');
  });

  it.each(documented)(
    '$id is unknown without $fact, and the plan is not recommended',
    ({ id, fact }) => {
      const p = plan(withFact(quiet, fact, undefined));

      expect(p.incompatibilities.find((i) => i.id === id)).toMatchObject({
        outcome: 'unknown',
        missingFacts: [fact],
      });
      expect(p.verdict).toBe('not-recommended');
      expect(p.reasons.flatMap((r) => r.missingFacts ?? [])).toContain(fact);
    },
  );

  it.each([
    {
      name: 'the proxy change does not apply when Direct.Connection.When.Proxy.Down is already true',
      id: 'proxy-direct-connection',
      on: 'network.proxyConfigured',
      settled: 'settings.Direct.Connection.When.Proxy.Down',
    },
    {
      name: 'the start-script change does not apply once conf/STStartScriptsConfig holds the settings',
      id: 'start-scripts-not-preserved',
      on: 'startScripts.customized',
      settled: 'startScripts.configFilePresent',
    },
  ])('$name', ({ id, on, settled }) => {
    const facts = withFact(withFact(quiet, on, true), settled, true);

    expect(plan(facts).incompatibilities.find((i) => i.id === id)?.outcome).toBe('does-not-apply');
  });

  it('the 5.3.3 file-tracking change is not on a path that starts after 5.3.3', () => {
    const facts = withFact(quiet, 'data.fileTrackingRows', 250000);

    expect(plan(facts, '5.4 GA').incompatibilities.map((i) => i.id)).not.toContain(
      'file-tracking-migration',
    );
  });
});

describe('documented outside prerequisites switch with the facts', () => {
  const db = (database: Record<string, unknown>) => ({
    ...quiet,
    database: { external: true, backedUp: true, privilegesViaRole: false, ...database },
  });
  const status = (facts: Facts, id: string) =>
    plan(facts).externalPrerequisites.find((p) => p.id === id)?.status;

  it.each([
    [
      'Oracle 12.1 is refused',
      { type: 'oracle', version: '12.1.0.2' },
      'oracle-12-2',
      'violated',
      'blocked',
    ],
    [
      'Oracle 12.2 passes',
      { type: 'oracle', version: '12.2.0.1' },
      'oracle-12-2',
      'satisfied',
      'recommended',
    ],
    [
      'Oracle 19c passes',
      { type: 'oracle', version: '19.3' },
      'oracle-12-2',
      'satisfied',
      'recommended',
    ],
    [
      'Oracle without a version is unknown',
      { type: 'oracle' },
      'oracle-12-2',
      'unknown',
      'not-recommended',
    ],
    [
      'SQL Server case-sensitive collation is refused',
      { type: 'mssql', collation: 'SQL_Latin1_General_CP1_CS_AS' },
      'mssql-case-insensitive-collation',
      'violated',
      'blocked',
    ],
    [
      'SQL Server case-insensitive collation passes',
      { type: 'mssql', collation: 'SQL_Latin1_General_CP1_CI_AS' },
      'mssql-case-insensitive-collation',
      'satisfied',
      null,
    ],
    [
      'the Oracle rule does not concern SQL Server',
      { type: 'mssql', collation: 'SQL_Latin1_General_CP1_CI_AS' },
      'oracle-12-2',
      'not-applicable',
      null,
    ],
  ] as const)('%s', (_name, database, id, expected, verdict) => {
    const facts = db(database);

    expect(status(facts, id)).toBe(expected);
    if (verdict) expect(plan(facts).verdict).toBe(verdict);
  });
});

describe('known limitations switch with the facts in the notes digest', () => {
  it.each([
    ['RDST-27698', 'deployment', 'streaming', 'standalone'],
    ['L-5.5-account-dates-ldap', 'auth.ldap', true, false],
  ] as const)('%s concerns the installation only when %s says so', (id, path, on, off) => {
    const entry = (facts: Facts) => plan(facts, '5.4 GA').notes.entries.find((e) => e.id === id);
    const set = (v: unknown) =>
      path.includes('.') ? withFact(quiet, path, v) : ({ ...quiet, [path]: v } as Facts);

    expect(entry(set(on))?.status).toBe('applies');
    expect(entry(set(off))?.status).toBe('does-not-apply');
    expect(entry(set(undefined))?.status).toBe('unknown');
    const onPlan = plan(set(on), '5.4 GA');
    expect(onPlan.notes.entries[0]?.status).toBe('applies');
  });
});

describe('uplift plan on the command line', () => {
  it('exits 3 on a blocked verdict and names the reason', () => {
    const res = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--to',
      '5.5',
      '--fact',
      'database.type=oracle',
      '--fact',
      'database.version=12.1.0.2',
    ]);

    expect(res.code).toBe(3);
    expect(res.stdout).toContain('UPGRADE BLOCKED');
    expect(res.stdout).toMatch(/Oracle/);
  });

  it('names the missing fact when a verdict is not recommended', () => {
    const res = runCliProcess([
      'plan',
      '--profile',
      'securetransport',
      '--from',
      '5.4 GA',
      '--to',
      '5.5',
      '--json',
    ]);

    const plan = JSON.parse(res.stdout);
    expect(res.code).toBe(0);
    expect(plan.verdict).toBe('not-recommended');
    expect(
      plan.reasons.flatMap((r: { missingFacts?: string[] }) => r.missingFacts ?? []),
    ).toContain('security.customCipherSets');
  });
});
