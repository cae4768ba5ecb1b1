import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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
import { repoRoot } from '../util/run-cli.ts';

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
  async function profileWithSettle(
    flag: string,
    after: string,
    timeoutMinutes: number,
  ): Promise<string> {
    // skiff's own readiness, kept as it is.
    const own = parseDocument(
      await readFile(join(repoRoot, 'profiles/skiff/profile.yaml'), 'utf8'),
    );
    const readiness = (
      own.getIn(['lifecycle', 'readiness']) as { toJSON(): Record<string, unknown> }
    ).toJSON();
    const dir = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), readiness);
    const profileFile = join(dir, 'profile.yaml');
    const profile = parseDocument(await readFile(profileFile, 'utf8'));
    profile.setIn(
      ['lifecycle', 'settleChecks'],
      profile.createNode({
        'migrations-done': {
          command: {
            // A background migration that finishes `$1` seconds after the first attempt (never,
            // when $1 is "never"). Each attempt is logged with its time, so the test sees the
            // wait from outside.
            argv: [
              'sh',
              '-c',
              '[ -f "$0.first" ] || date +%s > "$0.first"; date +%s%N >> "$0.attempts"; [ "$1" != never ] && [ $(( $(date +%s) - $(cat "$0.first") )) -ge "$1" ]',
              flag,
              after,
            ],
          },
        },
      }),
    );
    await writeFile(profileFile, profile.toString());
    const catalogFile = join(dir, 'catalog.yaml');
    const catalog = parseDocument(await readFile(catalogFile, 'utf8'));
    const releases = catalog.get('releases') as {
      items: { get(k: string): unknown; set(k: string, v: unknown): void }[];
    };
    const release = releases.items.find((r) => r.get('version') === stop);
    if (!release) throw new Error(`no ${stop} in skiff's catalog`);
    release.set(
      'settle',
      catalog.createNode({
        check: 'migrations-done',
        timeoutMinutes,
        intervalSeconds: 0.5,
        reason: 'background migrations of 5.4 Patch 2 must finish before 5.5 GA',
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
    const profile = await profileWithSettle(join(fx.root, 'plan'), 'never', 1);

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
    for (const format of ['text', 'markdown']) {
      const shown = await upliftAsync([
        'plan',
        '--profile',
        profile,
        '--from',
        from,
        '--to',
        to,
        '--fact',
        'platform.id=linux-x86-64',
        '--format',
        format,
      ]);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: colours, when CI is set
      const flat = shown.stdout.replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+/g, ' ');
      expect(flat).toMatch(
        /[Tt]hen wait until the settle check `?migrations-done`? passes \(up to 1 min\): background migrations of 5\.4 Patch 2 must finish before 5\.5 GA/,
      );
    }
  }, 60_000);

  it('starts the next hop only after the probe passes', async () => {
    const install = await freshInstall();
    const flag = join(fx.root, 'settled-1');
    const profile = await profileWithSettle(flag, '3', 2);

    const r = await upliftAsync(applyArgs(fx, install, '--profile', profile));

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.hops.map((h: { to: string }) => h.to)).toEqual([stop, to]);
    expect(result.hops[0].settle).toMatchObject({ check: 'migrations-done', outcome: 'settled' });
    expect(result.hops[0].settle.attempts).toBeGreaterThan(2);
    expect(result.hops[0].settle.seconds).toBeGreaterThanOrEqual(2);
    expect(result.hops[1].settle).toBeUndefined();
    const attempts = (await readFile(`${flag}.attempts`, 'utf8'))
      .trim()
      .split('\n')
      .map((ns) => Number(ns) / 1e6);
    // Attempts every half second, the passing one at least 2 s (the clock's whole seconds) after the first.
    expect(attempts.length).toBe(result.hops[0].settle.attempts);
    expect((attempts.at(-1) as number) - (attempts[0] as number)).toBeGreaterThanOrEqual(2000);
    // The second hop began after the passing attempt: its journal line is later.
    const journal = JSON.parse(
      (await upliftAsync(['history', '--install', install, '--json'])).stdout,
    );
    expect(journal.runs[0]).toMatchObject({ outcome: 'committed', to });
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${to}\n`);
  }, 240_000);

  it('ends the run committed at the stop when the probe never passes (UPLIFT_APPLY_SETTLE_TIMEOUT, exit 1)', async () => {
    const install = await freshInstall();
    const profile = await profileWithSettle(join(fx.root, 'never'), 'never', 0.05);

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
