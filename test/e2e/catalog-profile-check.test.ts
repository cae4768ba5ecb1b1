import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliProcess } from '../util/run-cli.ts';

/*
 * A catalog whose 1.1 GA waits on a settle check its profile does not declare, and whose migrate
 * formula reads a fact the profile does not declare: refused by the built CLI wherever the profile
 * and its catalog meet (`catalog validate --profile`, plan), at the line and column at fault.
 */
let dir: string;
let catalogFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'uplift-catalog-profile-'));
  catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    join(dir, 'profile.yaml'),
    `${dedent`
      profile: 1
      name: demo
      title: Demo
      catalog: catalog.yaml
      facts:
        topology.nodes: { type: integer, description: Nodes in the cluster. }
      lifecycle:
        services: [{ name: demo, systemd: { unit: demo.service } }]
        settleChecks:
          migrations-done: { command: { argv: ['true'] } }
    `}\n`,
  );
  writeFileSync(
    catalogFile,
    `${dedent`
      catalog: 1
      product: demo
      title: Demo
      versionScheme: dotted-patch
      illustrative: true
      reason: a catalog written for a test
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.1 GA, kind: ga, settle: { check: migrations-dnoe } }
        - { version: 1.2 GA, kind: ga }
      upgrade: {}
      durations:
        downloadBytesPerSecond: 1000
        backup: { seconds: 60 }
        stop: { seconds: 10 }
        apply: { seconds: 60 }
        migrate: { formula: "topology.nodes * topology.nodez * 1m" }
        start: { seconds: 20 }
        validate: { seconds: 60 }
        rollback: { seconds: 120 }
    `}\n`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('what a catalog asks of its profile', () => {
  it('is not checked by catalog validate without --profile', () => {
    const r = runCliProcess(['catalog', 'validate', catalogFile]);

    expect(r.code, r.stderr).toBe(0);
  });

  it('catalog validate --profile refuses each problem at its line and column', () => {
    const r = runCliProcess(['catalog', 'validate', catalogFile, '--profile', dir, '--json']);

    expect(r.code).toBe(2);
    const error = JSON.parse(r.stdout).error;
    expect(error).toMatchObject({
      code: 'UPLIFT_CATALOG_INVALID',
      location: { file: catalogFile, line: 9, col: 51, path: 'releases[1].settle.check' },
      unchanged: true,
    });
    expect(error.hint).toContain('migrations-done');
    expect(error.details[1]).toMatchObject({
      location: { file: catalogFile, line: 17, path: 'durations.migrate.formula' },
    });
    expect(error.details[1].message).toContain('topology.nodez');
  });

  it('plan refuses it too (exit 2), before planning', () => {
    const r = runCliProcess(['plan', '--profile', dir, '--from', '1.0 GA', '--to', '1.2 GA']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${catalogFile}:9:51`);
    expect(r.stderr).toContain('UPLIFT_CATALOG_INVALID');
    expect(r.stderr).toMatch(/hint: \S/);
  });
});

/*
 * A rule naming a fact the profile does not declare (plan would ask for a fact --fact refuses)
 * and a task naming a check uplift check does not have (plan would present it as automated).
 */
describe('what a catalog names of its profile and of uplift check', () => {
  let pdir: string;
  let file: string;

  beforeAll(() => {
    pdir = mkdtempSync(join(tmpdir(), 'uplift-catalog-names-'));
    file = join(pdir, 'catalog.yaml');
    writeFileSync(
      join(pdir, 'profile.yaml'),
      `${dedent`
        profile: 1
        name: t
        title: T
        catalog: catalog.yaml
        facts:
          scheduler.cronJobs: { type: integer, description: Scheduled jobs. }
      `}\n`,
    );
    writeFileSync(
      file,
      `${dedent`
        catalog: 1
        product: t
        title: T
        versionScheme: dotted-patch
        illustrative: true
        reason: a catalog written for a test
        releases:
          - { version: 1.0 GA, kind: ga }
          - { version: 1.1 GA, kind: ga }
        upgrade: {}
        tasks:
          - { id: pause, title: Pause the jobs, when: { fact: scheduler.cronJob, gt: 0 } }
          - { id: quota, title: Export the quota report, check: no-such-check }
        durations:
          downloadBytesPerSecond: 1000
          backup: { seconds: 60 }
          stop: { seconds: 10 }
          apply: { seconds: 60 }
          migrate: { seconds: 0 }
          start: { seconds: 20 }
          validate: { seconds: 60 }
          rollback: { seconds: 120 }
      `}\n`,
    );
  });

  afterAll(() => rmSync(pdir, { recursive: true, force: true }));

  it('catalog validate --profile refuses both at their line and column', () => {
    const r = runCliProcess(['catalog', 'validate', file, '--profile', pdir, '--json']);

    expect(r.code).toBe(2);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('UPLIFT_CATALOG_INVALID');
    expect(error.details.map((d: { location: unknown }) => d.location)).toEqual([
      expect.objectContaining({ file, line: 13, path: 'tasks[1].check' }),
      expect.objectContaining({ file, line: 12, path: 'tasks[0].when.fact' }),
    ]);
    expect(error.details[0].hint).toContain('disk-space');
    expect(error.details[1].hint).toContain('did you mean scheduler.cronJobs?');
  });

  it('plan refuses it too (exit 2), before planning', () => {
    const r = runCliProcess(['plan', '--profile', pdir, '--from', '1.0 GA', '--to', '1.1 GA']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UPLIFT_CATALOG_INVALID');
    expect(r.stderr).toMatch(new RegExp(`${file}:13:\\d+`));
  });
});
