import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  skiffProfileWith,
  startFreshInstall,
  upliftAsync,
} from '../util/apply-skiff.ts';

const from = '5.4 GA';
const stop = '5.4 Patch 2';
const to = '5.5 GA';

/**
 * A settle check at a stop (docs/catalog.md, "settle"): skiff's profile copied with a settle check
 * whose probe passes only once a file exists, and its catalog with `settle` on 5.4 Patch 2, the
 * middle stop of 5.4 GA → 5.4 Patch 2 → 5.5 GA. Apply must wait at the stop until the probe
 * passes before it starts the next hop; when it never passes, the run ends committed at the stop.
 */
describe('uplift apply waits at a stop until its settle check passes', () => {
  let fx: ApplyFixture;
  const installs: string[] = [];

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-settle-', from, to);
  }, 240_000);

  afterAll(async () => {
    for (const i of installs) await fx.skiff.stopInstallation(i).catch(() => undefined);
    await fx?.dispose();
  });

  /** skiff's profile with the settle check `migrations-done` and 5.4 Patch 2 settling on it. */
  async function profileWithSettle(flag: string, timeoutMinutes: number): Promise<string> {
    const dir = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {});
    const profileFile = join(dir, 'profile.yaml');
    const profile = parseDocument(await readFile(profileFile, 'utf8'));
    profile.deleteIn(['lifecycle', 'readiness']);
    profile.setIn(
      ['lifecycle', 'settleChecks'],
      profile.createNode({
        'migrations-done': {
          command: {
            // Each attempt is logged with its time, so the test sees the wait from outside.
            argv: [
              'sh',
              '-c',
              'date +%s%N >> "$0.attempts"; test -f "$0"',
              flag,
            ],
          },
        },
      }),
    );
    await writeFile(profileFile, profile.toString());
    const catalogFile = join(dir, 'catalog.yaml');
    const catalog = parseDocument(await readFile(catalogFile, 'utf8'));
    const releases = catalog.get('releases') as { items: { get(k: string): unknown; set(k: string, v: unknown): void }[] };
    const release = releases.items.find((r) => r.get('version') === stop);
    if (!release) throw new Error(`no ${stop} in skiff's catalog`);
    release.set(
      'settle',
      catalog.createNode({
        check: 'migrations-done',
        timeoutMinutes,
        intervalSeconds: 0.5,
        reason: 'background migrations of 5.4 Patch 2 must finish before 5.5 GA',
        illustrative: true,
      }),
    );
    await writeFile(catalogFile, catalog.toString());
    return dir;
  }

  async function freshInstall(): Promise<string> {
    const install = await startFreshInstall(fx);
    installs.push(install);
    return install;
  }

  it('plans the wait on the hop to the stop', async () => {
    const profile = await profileWithSettle(join(fx.root, 'never'), 1);

    const r = await upliftAsync([
      'plan',
      '--profile',
      profile,
      '--from',
      from,
      '--to',
      to,
      '--fact',
      'platform.id=linux-x86-64',
      '--json',
    ]);

    const plan = JSON.parse(r.stdout);
    expect(plan.steps.map((s: { to: string }) => s.to)).toEqual([stop, to]);
    expect(plan.steps[0].settle).toMatchObject({
      check: 'migrations-done',
      timeoutSeconds: 60,
      intervalSeconds: 0.5,
    });
    expect(plan.steps[1].settle).toBeUndefined();
  }, 60_000);

  it('starts the next hop only after the probe passes', async () => {
    const install = await freshInstall();
    const flag = join(fx.root, 'settled-1');
    const profile = await profileWithSettle(flag, 2);
    // The background migration "finishes" 4 s after apply began: a real process writes the file.
    const migration = spawn('sh', ['-c', 'sleep 4; touch "$0"', flag], { stdio: 'ignore' });
    const began = Date.now();

    const r = await upliftAsync(applyArgs(fx, install, '--profile', profile));

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.hops.map((h: { to: string }) => h.to)).toEqual([stop, to]);
    expect(result.hops[0].settle).toMatchObject({ check: 'migrations-done', outcome: 'settled' });
    expect(result.hops[0].settle.attempts).toBeGreaterThan(1);
    expect(result.hops[1].settle).toBeUndefined();
    const flagTime = (await stat(flag)).mtimeMs;
    expect(flagTime - began).toBeGreaterThan(3000);
    const attempts = (await readFile(`${flag}.attempts`, 'utf8'))
      .trim()
      .split('\n')
      .map((ns) => Number(ns) / 1e6);
    // Attempts before the file appeared failed; the last one, after it, passed.
    expect(attempts.filter((t) => t < flagTime).length).toBeGreaterThan(1);
    expect(attempts.at(-1)).toBeGreaterThanOrEqual(flagTime - 20);
    // The second hop began after the passing attempt: its journal line is later.
    const journal = JSON.parse(
      (await upliftAsync(['history', '--install', install, '--json'])).stdout,
    );
    expect(journal.runs[0]).toMatchObject({ outcome: 'committed', to });
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${to}\n`);
    migration.kill();
  }, 240_000);

  it('ends the run committed at the stop when the probe never passes (UPLIFT_APPLY_SETTLE_TIMEOUT, exit 1)', async () => {
    const install = await freshInstall();
    const profile = await profileWithSettle(join(fx.root, 'never'), 0.05);

    const r = await upliftAsync(applyArgs(fx, install, '--profile', profile));

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(1);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('UPLIFT_APPLY_SETTLE_TIMEOUT');
    expect(error.message).toContain(`${stop} is committed and is a supported version`);
    expect(error.message).toContain('migrations-done');
    expect(error.unchanged).toBe(false);
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${stop}\n`);
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version: stop, healthy: true });
    const history = JSON.parse(
      (await upliftAsync(['history', '--install', install, '--json'])).stdout,
    );
    expect(history.runs[0]).toMatchObject({ outcome: 'committed', from, to: stop });
    const status = await upliftAsync(['status', '--install', install, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'idle' });
  }, 240_000);
});
