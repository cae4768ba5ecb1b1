import { spawnSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  runtimeState,
  startFreshInstall,
  stateDir,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

/** Mounting a small tmpfs needs root (CI runs as root); elsewhere these tests cannot make a full disk. */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = `/tmp/uplift-mount-probe-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  spawnSync('rmdir', [dir]);
  return ok;
}

/**
 * reliability-tests C.5: the filesystem that holds the installation (and so its staging and
 * backups, which apply keeps beside it) runs out of space during staging, and during the backup.
 * A tmpfs of its own holds a running skiff installation; a filler file leaves just the free space
 * each case needs, measured from a real run, not guessed. apply must fail with its code before any
 * downtime, the installation must be byte-identical and answering, and the state folder must hold
 * nothing but the record of what happened.
 */
// Under CI=true a machine that cannot mount fails these tests instead of skipping them.
describe.skipIf(!canMount() && process.env.CI !== 'true')('apply on a full disk', () => {
  let fx: ApplyFixture;
  let mnt: string;
  let oldTree: string;
  /** Bytes of the filesystem each phase takes: the verified pack, the staged tree, the backup. */
  const use = { pack: 0, stage: 0, backup: 0 };

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-apply-full-', from, to);
    oldTree = (await hashTree(fx.template, { ignore: runtimeState })).hash;
    mnt = join(fx.root, 'mnt');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', mnt]);
    expect(m.status, String(m.stderr)).toBe(0);

    // Measure: kill -9 after verify, then after backup, and see what the state folder holds.
    const install = await startFreshInstall(fx, mnt);
    const state = stateDir(install);
    try {
      const a = await upliftAsync(applyArgs(fx, install), { crashAt: 'verify:done' });
      expect(a.signal, a.stderr).toBe('SIGKILL');
      use.pack = du(await only(state, 'stage-'));
      expect((await upliftAsync(['resume', '--abort', '--install', install])).code).toBe(0);
      const b = await upliftAsync(applyArgs(fx, install), { crashAt: 'backup:done' });
      expect(b.signal, b.stderr).toBe('SIGKILL');
      use.stage = du(await only(state, 'stage-'));
      use.backup = du(join(state, 'backups'));
      expect((await upliftAsync(['resume', '--abort', '--install', install])).code).toBe(0);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
      await rm(dirname(install), { recursive: true, force: true });
    }
    expect(use.stage).toBeGreaterThan(use.pack);
    expect(use.backup).toBeGreaterThan(0);
  }, 240_000);

  afterAll(async () => {
    if (mnt) spawnSync('umount', ['-l', mnt]);
    await fx?.dispose();
  });

  /** Fills the filesystem until `free` bytes are left; returns the filler file. */
  async function fillTo(free: number): Promise<string> {
    const filler = join(mnt, 'filler');
    const s = statfsSync(mnt);
    const fill = s.bavail * s.bsize - free;
    expect(fill).toBeGreaterThan(0);
    const fh = await open(filler, 'w');
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    for (let left = fill; left > 0; left -= chunk.length)
      await fh.write(chunk, 0, Math.min(left, chunk.length));
    await fh.close();
    return filler;
  }

  it.each([
    {
      phase: 'staging',
      // The verified pack fits, half the staged tree does not: verify's space check (the staged
      // size the signed manifest declares, and a margin) refuses before staging starts.
      code: 'UPLIFT_PACK_STAGING_FAILED',
      step: 'verify',
      free: () => use.pack + Math.floor((use.stage - use.pack) / 2),
    },
    {
      phase: 'backup',
      code: 'UPLIFT_APPLY_BACKUP_FAILED',
      step: 'backup',
      // Staging fits, half the backup does not.
      free: () => use.stage + Math.floor(use.backup / 2),
    },
  ])(
    'a full disk during $phase: $code, nothing stopped, the installation byte-identical and running, no leftovers',
    async ({ code, step, free }) => {
      const install = await startFreshInstall(fx, mnt);
      const state = stateDir(install);
      const filler = await fillTo(free());
      try {
        const r = await upliftAsync(applyArgs(fx, install));

        expect(r.code, `${r.stdout}${r.stderr}`).toBe(1);
        const error = JSON.parse(r.stdout).error;
        expect(error).toMatchObject({ code, unchanged: true });
        expect(`${error.message} ${error.hint}`).toMatch(/ENOSPC|no space|Free space/i);
        expect(r.stderr).not.toContain('stop the service');
        await rm(filler);
        expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
        const st = await fx.skiff.getInstallationStatus(install);
        expect(st).toMatchObject({ version: from, healthy: true });
        // What is left beside the installation: the history and the run's journal, which say
        // which step failed and why, and the profile the run used; no staging, no partial
        // backup, no lock.
        const left = await listFiles(state);
        expect(
          left.filter(
            (f) =>
              f !== 'history.jsonl' && f !== 'profile.json' && !/^runs\/[^/]+\.journal$/.test(f),
          ),
        ).toEqual([]);
        const history = (await readFile(join(state, 'history.jsonl'), 'utf8')).trim().split('\n');
        expect(history).toHaveLength(1);
        expect(JSON.parse(history[0] as string)).toMatchObject({
          outcome: 'aborted',
          to: from,
          error: { code },
        });
        const journal = await readFile(
          join(state, left.find((f) => f.startsWith('runs/')) as string),
          'utf8',
        );
        const failed = journal
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((rec) => rec.state === 'failed');
        expect(failed).toMatchObject({
          step,
          data: { error: { code } },
        });
        const status = await upliftAsync(['status', '--install', install, '--json']);
        expect(status.code, status.stderr).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ state: 'idle' });
      } finally {
        await rm(filler, { force: true });
        await fx.skiff.stopInstallation(install).catch(() => undefined);
      }
    },
    120_000,
  );
});

/** Bytes a folder takes on its filesystem (du). */
function du(path: string): number {
  const r = spawnSync('du', ['-s', '-B1', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`du ${path}: ${r.stderr}`);
  return Number(r.stdout.split('\t')[0]);
}

/** The one entry of `dir` whose name starts with `prefix`. */
async function only(dir: string, prefix: string): Promise<string> {
  const names = (await readdir(dir)).filter((x) => x.startsWith(prefix));
  expect(names).toHaveLength(1);
  return join(dir, names[0] as string);
}

/** Every file under `dir`, relative, sorted (folders only through what they hold). */
async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if ((await stat(join(dir, p))).isDirectory()) out.push(...(await listFiles(dir, p)));
    else out.push(p);
  }
  return out;
}
