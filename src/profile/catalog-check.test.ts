import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, describe, expect, it } from 'vitest';
import { UpliftError } from '../errors/index.ts';
import { loadProfile } from './index.ts';

/*
 * What a catalog asks of its profile, refused when the two are loaded together (every command
 * that loads a profile, plan among them): a settle check the profile does not declare, and a
 * fact a duration formula reads that a profile declaring its facts does not declare.
 */
const root = mkdtempSync(join(tmpdir(), 'uplift-catalog-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const catalog = (release: string, migrate: string) => dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  illustrative: true
  reason: a catalog written for a test
  releases:
    - { version: 1.0 GA, kind: ga }
    - ${release}
  upgrade: {}
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: ${migrate}
    start: { seconds: 20 }
    validate: { seconds: 60 }
    rollback: { seconds: 120 }
`;

const settleChecks = dedent`
  lifecycle:
    services: [{ name: demo, systemd: { unit: demo.service } }]
    settleChecks:
      migrations-done: { command: { argv: ['true'] } }
`;

const declared = dedent`
  facts:
    topology.nodes: { type: integer, description: Nodes in the cluster. }
    topology.maxUnavailable: { type: integer, description: Nodes down at a time. }
`;

let n = 0;
/** A profile folder holding profile.yaml (with `extra` appended) and catalog.yaml. */
function profileDir(catalogText: string, extra: string): string {
  const dir = join(root, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'profile.yaml'),
    `profile: 1\nname: demo\ntitle: Demo\ncatalog: catalog.yaml\n${extra}\n`,
  );
  writeFileSync(join(dir, 'catalog.yaml'), `${catalogText}\n`);
  return dir;
}

async function refusal(dir: string): Promise<UpliftError> {
  const err = await loadProfile(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UpliftError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

const settleOn = (check: string) =>
  `{ version: 1.1 GA, kind: ga, settle: { check: ${check}, timeoutMinutes: 5 } }`;
const plain = '{ version: 1.1 GA, kind: ga }';
const formula = '{ formula: "ceil(topology.nodes / topology.maxUnavailible) * 10m" }';

describe('a settle check the profile does not declare', () => {
  it('is refused at load, at the line and column of the name (UPLIFT_CATALOG_INVALID)', async () => {
    const dir = profileDir(catalog(settleOn('migrations-dnoe'), '{ seconds: 0 }'), settleChecks);

    const err = await refusal(dir);

    expect(err.code).toBe('UPLIFT_CATALOG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('settle check "migrations-dnoe"');
    expect(err.location).toMatchObject({
      file: join(dir, 'catalog.yaml'),
      line: 9,
      col: 51,
      path: 'releases[1].settle.check',
    });
    expect(err.hint).toContain('migrations-done');
  });

  it('is refused when the profile declares no settle checks at all', async () => {
    const err = await refusal(
      profileDir(catalog(settleOn('migrations-done'), '{ seconds: 0 }'), ''),
    );

    expect(err.code).toBe('UPLIFT_CATALOG_INVALID');
    expect(err.hint).toContain('lifecycle.settleChecks.migrations-done');
  });

  it('loads when the profile declares it', async () => {
    const p = await loadProfile(
      profileDir(catalog(settleOn('migrations-done'), '{ seconds: 0 }'), settleChecks),
    );

    expect(p.catalog.releases.get('1.1 GA')?.settle?.check).toBe('migrations-done');
  });
});

describe('a fact a duration formula reads', () => {
  it('is refused when the profile declares its facts but not this one, at the formula', async () => {
    const dir = profileDir(catalog(plain, formula), declared);

    const err = await refusal(dir);

    expect(err.code).toBe('UPLIFT_CATALOG_INVALID');
    expect(err.message).toContain('topology.maxUnavailible');
    expect(err.location).toMatchObject({
      file: join(dir, 'catalog.yaml'),
      line: 16,
      path: 'durations.migrate.formula',
    });
    expect(err.location?.col).toBeGreaterThan(1);
  });

  it('is refused in a release’s own durations too', async () => {
    const release = `{ version: 1.1 GA, kind: ga, durations: { apply: ${formula} } }`;
    const err = await refusal(profileDir(catalog(release, '{ seconds: 0 }'), declared));

    expect(err.location).toMatchObject({ line: 9, path: 'releases[1].durations.apply.formula' });
  });

  it('loads when every fact it reads is declared', async () => {
    const ok = '{ formula: "ceil(topology.nodes / topology.maxUnavailable) * 10m" }';
    const p = await loadProfile(profileDir(catalog(plain, ok), declared));

    expect(p.catalog.catalog.durations.migrate.formula).toContain('topology.maxUnavailable');
  });

  it('is not checked for a profile that declares no facts', async () => {
    const p = await loadProfile(profileDir(catalog(plain, formula), ''));

    expect(p.catalog.catalog.durations.migrate.formula).toContain('maxUnavailible');
  });
});

describe('a fact a rule names', () => {
  const withRules = (migrate: string, rules: string) => `${catalog(plain, migrate)}\n${rules}`;
  const incompatibility =
    'incompatibilities:\n  - id: i\n    title: I\n    introducedIn: 1.1 GA\n    severity: info\n    action: A\n' +
    '    when: { not: { any: [{ fact: topology.nodes, gt: 1 }, { fact: topology.node, lt: 9 }] } }';

  it.each`
    where                                   | migrate                                                                   | rules                                                                       | line  | path
    ${'a task'}                             | ${'{ seconds: 0 }'}                                                       | ${'tasks:\n  - { id: t, title: T, when: { fact: topology.node, gte: 2 } }'} | ${21} | ${'tasks[0].when.fact'}
    ${'an incompatibility, inside not/any'} | ${'{ seconds: 0 }'}                                                       | ${incompatibility}                                                          | ${26} | ${'incompatibilities[0].when.not.any[1].fact'}
    ${'a duration that scales with it'}     | ${'{ seconds: 0, per: [{ fact: topology.node, unit: 1, seconds: 60 }] }'} | ${''}                                                                       | ${16} | ${'durations.migrate.per[0].fact'}
  `(
    'is refused in $where, at the fact (UPLIFT_CATALOG_INVALID)',
    async ({ migrate, rules, line, path }) => {
      const dir = profileDir(withRules(migrate, rules), declared);

      const err = await refusal(dir);

      expect(err).toMatchObject({
        code: 'UPLIFT_CATALOG_INVALID',
        exitCode: 2,
        location: { file: join(dir, 'catalog.yaml'), line, path },
      });
      expect(err.message).toContain('the fact topology.node,');
      expect(err.location?.col).toBeGreaterThan(1);
      expect(err.hint).toContain('did you mean topology.nodes?');
    },
  );

  it('loads when every fact the rules name is declared', async () => {
    const rules = 'tasks:\n  - { id: t, title: T, when: { fact: topology.nodes, gte: 2 } }';

    const p = await loadProfile(profileDir(withRules('{ seconds: 0 }', rules), declared));

    expect(p.catalog.catalog.tasks).toHaveLength(1);
  });
});

describe('a check a task names', () => {
  const task = (check: string) =>
    `${catalog(plain, '{ seconds: 0 }')}\ntasks:\n  - { id: t, title: T, check: ${check} }`;

  it('is refused when uplift check has no such check, at its name', async () => {
    const dir = profileDir(task('disk-spcae'), '');

    const err = await refusal(dir);

    expect(err).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file: join(dir, 'catalog.yaml'), line: 21, path: 'tasks[0].check' },
    });
    expect(err.location?.col).toBeGreaterThan(1);
    expect(err.hint).toContain('did you mean disk-space?');
  });

  it('loads when it names a built-in check', async () => {
    const p = await loadProfile(profileDir(task('disk-space'), ''));

    expect(p.catalog.catalog.tasks[0]?.check).toBe('disk-space');
  });
});
