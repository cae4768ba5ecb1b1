import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debrisIn, slowUpload, spawnUplift, untilJournal } from '../util/apply-kill.ts';
import {
  type ApplyFixture,
  applyArgs,
  packsWithFailingLastHop,
  prepareApplyFixture,
  runtimeState,
  startFreshInstall,
  stateDir,
  tableRows,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.3 GA';
const packInputs = join(repoRoot, 'profiles/skiff/packs');

/**
 * A multi-hop run ends on its start or its target, never in between (issue 10, part 6): after a
 * crash, `uplift resume` carries the whole run on to its target and `uplift resume --abort` takes
 * it back to the version it started from; a plain apply whose later hop fails takes the whole run
 * back to its start; the service is left as the run found it; a killed step's debris goes.
 */
describe.concurrent('resume of a killed multi-hop run', () => {
  let fx: ApplyFixture;
  let oldTree: string;
  let newTree: string;
  let rows: Record<string, unknown[]>;
  /** The run's packs, the last hop's with a second database migration that fails. */
  let failingPacks: string;

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-resume-run-', from, to, {
      '5.3.3 GA': join(packInputs, '5.3.3-GA/migrations.yaml'),
    });
    expect(fx.hops.length).toBe(2);
    failingPacks = await packsWithFailingLastHop(fx, join(packInputs, '5.3.3-GA'));
    oldTree = (await hashTree(fx.template, { ignore: runtimeState })).hash;
    rows = tableRows(join(fx.template, 'var/db/skiff.db'));
    const install = await startFreshInstall(fx);
    try {
      const r = await upliftAsync(applyArgs(fx, install));
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      newTree = (await hashTree(install, { ignore: runtimeState })).hash;
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
    }
  }, 240_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  /** apply, killed (SIGKILL) once the journal shows `hop`'s `step` begun. */
  async function applyKilledAt(install: string, hop: number, step: string): Promise<void> {
    const run = spawnUplift(applyArgs(fx, install));
    const seen = await untilJournal(
      install,
      (r) => r.hop === hop && r.step === step && r.state === 'begin',
    );
    run.child.kill('SIGKILL');
    const r = await run.done;
    expect(seen, r.stderr).toBe(true);
    expect(r.signal).toBe('SIGKILL');
  }

  it.for([
    ['', to],
    ['--abort', from],
  ])(
    'killed in the second hop: resume %s ends on %s',
    { timeout: 240_000 },
    async ([flag, version], { expect }) => {
      const install = await startFreshInstall(fx);
      try {
        await applyKilledAt(install, 1, 'stop');

        const r = await upliftAsync([
          'resume',
          '--install',
          install,
          '--json',
          ...(flag ? [flag] : []),
        ]);

        expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ version, service: 'running' });
        const tree = (await hashTree(install, { ignore: runtimeState })).hash;
        expect(tree).toBe(version === to ? newTree : oldTree);
        expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
          version,
          healthy: true,
        });
        if (version === from) expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(rows);
        expect(debrisIn(install)).toEqual([]);
      } finally {
        await fx.skiff.stopInstallation(install).catch(() => undefined);
        await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
      }
    },
  );

  it("a plain apply whose last hop's migration fails takes the whole run back to its start", {
    timeout: 240_000,
  }, async () => {
    const install = await startFreshInstall(fx);
    try {
      const r = await upliftAsync(applyArgs({ ...fx, packs: failingPacks }, install));

      expect(r.code, `${r.stdout}${r.stderr}`).toBe(1);
      const error = JSON.parse(r.stdout).error;
      expect(error).toMatchObject({ code: 'UPLIFT_APPLY_ROLLED_BACK', unchanged: false });
      expect(error.message).toContain('step migrate');
      expect(error.state).toContain(`the run was taken back to ${from}`);
      expect(error.state).toContain('service running as before');
      expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
      expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
        version: from,
        healthy: true,
      });
      expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(rows);
      const history = JSON.parse(
        (await upliftAsync(['history', '--install', install, '--json'])).stdout,
      );
      expect(history.runs.at(-1)).toMatchObject({
        kind: 'apply',
        outcome: 'rolled-back',
        from,
        to: from,
        service: 'running',
        undidRun: { to: from, hops: fx.hops.map((h, hop) => ({ hop, ...h })) },
        hops: [
          { hop: 0, outcome: 'rolled-back' },
          { hop: 1, outcome: 'rolled-back', failedStep: 'migrate' },
        ],
      });
      expect(debrisIn(install)).toEqual([]);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
    }
  });

  it('killed while its stop waits on a transfer: resume leaves the service running', {
    timeout: 240_000,
  }, async () => {
    const install = await startFreshInstall(fx);
    try {
      const upload = slowUpload(install, 'in-flight.bin', 1 << 20, 4);
      await sleep(300);
      await applyKilledAt(install, 0, 'stop');
      await sleep(300);

      const r = await upliftAsync(['resume', '--install', install, '--json']);
      const status = await upload;
      await sleep(1500);

      // The run found the service running: resume leaves it running (and says so), and it still
      // is once the transfer and the killed run's stop are over.
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ service: 'running' });
      expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({ healthy: true });
      expect(status).toBe(201);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
    }
  });

  it('killed in the backup step: the next command that takes the lock removes its debris', {
    timeout: 240_000,
  }, async () => {
    const install = await startFreshInstall(fx);
    try {
      const crashed = await upliftAsync(applyArgs(fx, install), {
        crashAt: 'backup-before-rename',
      });
      expect(crashed.signal).toBe('SIGKILL');
      const backups = join(stateDir(install), 'backups');
      // What the kill left: the whole archive under its temp name, the database's copy.
      expect(readdirSync(backups).some((n) => n.startsWith('.'))).toBe(true);
      // A lock's temp file of a process killed while it took the lock.
      writeFileSync(join(stateDir(install), 'lock.tmp-999999999'), '{}');
      // The staging folder of a dry run (or of apply's check of every hop) killed midway, and
      // one of a dry run still going (this process): only the first is debris.
      const dead = join(stateDir(install), 'dry-run-999999999-aBc123');
      const live = `dry-run-${process.pid}-live`;
      mkdirSync(join(dead, 'hop-0/tree'), { recursive: true });
      writeFileSync(join(dead, 'hop-0/tree/version'), '5.4 GA\n');
      mkdirSync(join(stateDir(install), live));

      const r = await upliftAsync(['resume', '--install', install, '--abort', '--json']);

      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect(debrisIn(install)).toEqual([live]);
      expect(existsSync(join(stateDir(install), 'lock.tmp-999999999'))).toBe(false);
      expect(existsSync(dead)).toBe(false);
      expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
    }
  });
});
