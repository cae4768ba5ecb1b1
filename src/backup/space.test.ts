import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace, writeInstallTree } from '../../test/util/backup-tree.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { createBackup, restoreBackup } from './index.ts';

/** Small real filesystems (tmpfs) make ENOSPC happen for real; mounting needs root or CAP_SYS_ADMIN. */
function tryMount(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

const probe = join(process.env.TMPDIR ?? '/tmp', `uplift-mount-probe-${process.pid}`);
const canMount = tryMount(probe, '1m') && spawnSync('umount', [probe]).status === 0;

let ws: Workspace;
const mounts: string[] = [];

beforeEach(async () => {
  ws = await makeWorkspace();
});

afterEach(async () => {
  for (const m of mounts.splice(0)) spawnSync('umount', [m]);
  await ws.cleanup();
});

function mount(rel: string, size: string): string {
  const dir = join(ws.root, rel);
  if (!tryMount(dir, size)) throw new Error(`cannot mount a tmpfs on ${dir}`);
  mounts.push(dir);
  return dir;
}

describe.runIf(canMount)('full filesystems (reliability guide C.5.1)', () => {
  it('a backup onto a full filesystem fails with a coded error and leaves nothing there', async () => {
    writeInstallTree(ws.install);
    writeFileSync(join(ws.install, 'data/upload.bin'), randomBytes(3 << 20));
    const small = mount('small', '1m');

    const err = await createBackup({ install: ws.install, out: join(small, 'b.tar.gz') }).catch(
      (e: unknown) => e,
    );

    expect(err).toMatchObject({ code: 'UPLIFT_BACKUP_WRITE_FAILED', exitCode: 1 });
    expect((err as { hint: string }).hint).toContain('Free space');
    expect(readdirSync(small)).toEqual([]);
  });

  it('a restore that would not fit beside the installation is refused before anything is written', async () => {
    const fs = mount('fs', '12m');
    const install = join(fs, 'skiff');
    writeInstallTree(install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install, out });
    const before = await hashTree(install);

    await expect(restoreBackup({ backup: out, install })).rejects.toMatchObject({
      code: 'UPLIFT_RESTORE_NO_SPACE',
      unchanged: true,
    });

    expect((await hashTree(install)).hash).toBe(before.hash);
    expect(readdirSync(fs)).toEqual(['skiff']);
  });

  it('an installation that is a mount point is refused: the swap cannot rename across filesystems', async () => {
    const install = mount('skiff', '16m');
    writeInstallTree(install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install, out });

    await expect(restoreBackup({ backup: out, install })).rejects.toMatchObject({
      code: 'UPLIFT_RESTORE_CROSS_DEVICE',
    });
  });
});
