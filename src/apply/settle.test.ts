import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemblePlan } from '../plan/index.ts';
import { loadProfile, type Profile } from '../profile/index.ts';
import { awaitSettle } from './settle.ts';

/*
 * The settle timeout's hint and `next` (UPLIFT_APPLY_SETTLE_TIMEOUT): the command they print must
 * run as printed, for an installation folder whose name a shell would split and a target with a
 * blank, so each is one shell word (src/errors/shell-word.ts) on a line of its own.
 */
let root: string;
let install: string;
let profile: Profile;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'uplift-settle-'));
  install = join(root, "it's my install");
  mkdirSync(install);
  const dir = join(root, 'profile');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'profile.yaml'),
    `${dedent`
      profile: 1
      name: demo
      title: Demo
      catalog: catalog.yaml
      lifecycle:
        services: [{ name: demo, systemd: { unit: demo.service } }]
        settleChecks:
          never: { command: { argv: ['false'] } }
    `}\n`,
  );
  writeFileSync(
    join(dir, 'catalog.yaml'),
    `${dedent`
      catalog: 1
      product: demo
      title: Demo
      versionScheme: dotted-patch
      illustrative: true
      reason: a catalog written for a test
      releases:
        - { version: 1.0 GA, kind: ga }
        - { version: 1.1 GA, kind: ga, settle: { check: never, timeoutMinutes: 0.005, intervalSeconds: 0.1 } }
        - { version: 1.2 GA, kind: ga }
      upgrade: { requiredStops: [{ release: "1.1" }] }
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
  profile = await loadProfile(dir);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The words bash reads from a command line as pasted. */
function wordsOf(command: string): string[] {
  const r = spawnSync('bash', ['-c', `set -f; printf '%s\\0' ${command}`], { encoding: 'utf8' });
  expect(r.status, `${command}\n${r.stderr}`).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('a settle check that never passes', () => {
  it('ends with a hint whose command runs as printed', async () => {
    const plan = assemblePlan({
      profile: 'demo',
      catalog: profile.catalog,
      facts: {},
      from: '1.0 GA',
      to: '1.2 GA',
    });
    const step = plan.steps[0];
    if (!step?.settle) throw new Error('the plan has no settle at 1.1 GA');

    const { report, error } = await awaitSettle(profile, install, step, 'run-1', plan.to);

    expect(report.outcome).toBe('timed-out');
    expect(report.attempts).toBeGreaterThan(0);
    expect(error?.code).toBe('UPLIFT_APPLY_SETTLE_TIMEOUT');
    const expected = ['uplift', 'apply', '--install', install, '--to', '1.2 GA'];
    // The command stands on the hint's last line, alone.
    const last = error?.hint?.split('\n').at(-1) as string;
    expect(last.startsWith('uplift apply ')).toBe(true);
    expect(wordsOf(last)).toEqual(expected);
    expect(wordsOf(error?.next as string)).toEqual(expected);
  });
});
