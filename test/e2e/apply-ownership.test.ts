import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';
import {
  applyArgs,
  homeHash,
  livePids,
  makeStHome,
  runtime,
  type StHome,
  stopAll,
  to,
} from '../util/st-installer.ts';
import { hashTree } from '../util/tree-hash.ts';

/**
 * Part 3 of issue 5: every file keeps the owner the installation uses. root on a non-root
 * installation runs the upgrade as its owner (no root-owned file anywhere in or beside it after
 * apply and rollback); any other user is refused before anything is written. Needs root (CI runs
 * as root); under CI=true a non-root run fails instead of skipping.
 */
const isRoot = process.getuid?.() === 0;
const mustRun = isRoot || process.env.CI === 'true';
const nobody = 65534;

function cli(args: string[], as?: number, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    ...(as === undefined ? {} : { uid: as, gid: as }),
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under the Axway home (installation, installer, uplift's state beside them) not owned by uid. */
async function notOwnedBy(home: string, uid: number): Promise<string[]> {
  const t = await hashTree(home);
  return t.records.filter((r) => r.uid !== uid && r.type !== 'symlink').map((r) => r.path);
}

function chownTree(dir: string, uid: number): void {
  const r = spawnSync('chown', ['-R', `${uid}:${uid}`, dir]);
  if (r.status !== 0) throw new Error(`chown: ${r.stderr}`);
}

describe.runIf(mustRun)('ownership and modes', () => {
  let root: string;
  let n = 0;
  const homes: StHome[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'uplift-owner-'));
    await chmod(root, 0o755); // the other user must reach the installation to be refused by uplift, not by the OS
  });
  afterEach(async () => {
    for (const h of homes.splice(0)) await stopAll(h.install);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function home(): Promise<StHome> {
    const h = await makeStHome(root, `home-${++n}`);
    homes.push(h);
    return h;
  }

  it('refuses a user who does not own the installation, before the lock, with nothing written', async () => {
    const h = await home();
    const before = await homeHash(h);

    const r = cli(applyArgs(h), nobody);
    const resume = cli(['resume', '--install', h.install, '--json'], nobody);

    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_APPLY_WRONG_USER',
      message: expect.stringContaining('belongs to root, but uplift runs as nobody'),
    });
    expect(resume.code).toBe(3);
    expect(await homeHash(h)).toEqual(before);
    await expect(stat(join(h.home, '.SecureTransport.uplift'))).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('as root on a non-root installation, runs as its owner: no root-owned file in or beside it after apply and rollback, modes kept', async () => {
    const h = await home();
    chownTree(h.home, nobody);
    const start = spawnSync(join(h.install, 'bin/start_all'), [], { uid: nobody, gid: nobody });
    expect(start.status).toBe(0);
    const before = await homeHash(h);
    const modesBefore = new Map(
      (await hashTree(h.install, { ignore: runtime })).records.map((r) => [r.path, r.mode]),
    );

    const r = cli(applyArgs(h));

    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).to).toBe(to);
    expect(await notOwnedBy(h.home, nobody)).toEqual([]);
    const after = (await hashTree(h.install, { ignore: runtime })).records;
    // Files the update did not touch keep their modes; new ones have the update's (0644 files, 0755 folders).
    for (const rec of after) {
      const was = modesBefore.get(rec.path);
      if (was !== undefined) expect([rec.path, rec.mode]).toEqual([rec.path, was]);
      else
        expect([rec.path, rec.mode]).toEqual([rec.path, rec.type === 'directory' ? 0o755 : 0o644]);
    }
    const pids = Object.values(await livePids(h.install));
    expect(pids).toHaveLength(4);
    for (const pid of pids)
      expect(await readFile(`/proc/${pid}/status`, 'utf8')).toMatch(
        new RegExp(`^Uid:\\s+${nobody}\\s`, 'm'),
      );

    const back = cli(['rollback', '--install', h.install, '--json']);

    expect(back.code, back.stderr).toBe(0);
    expect(await homeHash(h)).toEqual(before);
    expect(await notOwnedBy(h.home, nobody)).toEqual([]);
  }, 120_000);

  it('refuses root on a non-root installation that already holds a root-owned file (the trace of an earlier root upgrade)', async () => {
    const h = await home();
    chownTree(h.home, nobody);
    await chown(join(h.install, 'lib/st-core.jar'), 0, 0);
    const before = await homeHash(h);

    const r = cli(applyArgs(h));

    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'UPLIFT_APPLY_WRONG_USER',
      message: expect.stringContaining('lib/st-core.jar (uid 0)'),
    });
    expect(await homeHash(h)).toEqual(before);
    await expect(stat(join(h.home, '.SecureTransport.uplift'))).rejects.toThrow(/ENOENT/);
  }, 60_000);
});
