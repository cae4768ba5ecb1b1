import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countRows,
  damageInstallTree,
  isRoot,
  makeWorkspace,
  oddName,
  serviceOf,
  startFakeService,
  type Workspace,
  writeInstallTree,
} from '../../test/util/backup-tree.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { type BackupManifest, createBackup, restoreBackup, verifyBackup } from './index.ts';

let ws: Workspace;
const children: { kill: () => boolean }[] = [];

beforeEach(async () => {
  ws = await makeWorkspace();
});

afterEach(async () => {
  for (const c of children.splice(0)) c.kill();
  await ws.cleanup();
});

/** The manifest, read the way an operator would: with tar and gzip, not with our reader. */
function manifestOf(file: string): BackupManifest {
  const text = execFileSync('tar', ['-xzOf', file, 'uplift-backup/manifest.json'], {
    encoding: 'utf8',
  });
  return JSON.parse(text) as BackupManifest;
}

/** Everything beside the installation: backups, staging trees, journals, old trees. */
function besideInstall(): string[] {
  return readdirSync(ws.root).sort();
}

describe('backup and restore', () => {
  it('brings back exactly the backed-up tree after damage: contents, modes, owners, links, the database', async () => {
    writeInstallTree(ws.install);
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    const backup = await createBackup({ install: ws.install, out });
    damageInstallTree(ws.install);
    expect((await hashTree(ws.install)).hash).not.toBe(before.hash);

    const restored = await restoreBackup({ backup: out, install: ws.install });

    expect((await hashTree(ws.install)).records).toEqual(before.records);
    expect(countRows(join(ws.install, 'var/db/skiff.db'))).toBe(500);
    expect(statSync(join(ws.install, 'data/hard-a')).ino).toBe(
      statSync(join(ws.install, 'data/hard-b')).ino,
    );
    expect(existsSync(join(ws.install, 'data/stray.txt'))).toBe(false);
    expect(restored).toMatchObject({ id: backup.id, ownersRestored: isRoot, recovered: 'none' });
    expect(besideInstall()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it.runIf(isRoot)('restores a file owned by another user (uid 1) as root', async () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    rmSync(join(ws.install, 'data/alice/report.csv'));

    await restoreBackup({ backup: out, install: ws.install });

    const st = lstatSync(join(ws.install, 'data/alice/report.csv'));
    expect([st.uid, st.gid]).toEqual([1, 1]);
  });

  it('keeps modes that tar headers cannot carry (0) and setgid directories', async () => {
    writeInstallTree(ws.install);
    writeFileSync(join(ws.install, 'conf/locked'), 'no access\n');
    chmodSync(join(ws.install, 'conf/locked'), 0);
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    rmSync(join(ws.install, 'conf'), { recursive: true });

    await restoreBackup({ backup: out, install: ws.install });

    expect((await hashTree(ws.install)).records).toEqual(before.records);
    expect(lstatSync(join(ws.install, 'conf/locked')).mode & 0o7777).toBe(0);
    expect(lstatSync(join(ws.install, 'data/shared')).mode & 0o7777).toBe(0o2770);
  });

  it('restores into a missing installation directory', async () => {
    writeInstallTree(ws.install);
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    rmSync(ws.install, { recursive: true });

    await restoreBackup({ backup: out, install: ws.install });

    expect((await hashTree(ws.install)).records).toEqual(before.records);
  });

  it('writes a manifest with every entry, its metadata and how consistency was obtained', async () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');

    const r = await createBackup({
      install: ws.install,
      out,
      now: new Date('2025-01-31T23:59:59Z'),
      productVersion: '5.3.0 Patch 1',
    });

    const m = manifestOf(out);
    expect(m).toMatchObject({
      format: 'uplift-backup/1',
      id: r.id,
      installation: ws.install,
      productVersion: '5.3.0 Patch 1',
      created: '2025-01-31T23:59:59.000Z',
      tool: { name: 'uplift' },
      consistency: { mode: 'offline', stoppedByUplift: false, runningPids: [], excluded: [] },
    });
    const byPath = new Map(m.entries.map((e) => [e.path, e]));
    expect(byPath.get('.')).toMatchObject({ type: 'directory' });
    expect(byPath.get('conf/accounts.json')).toMatchObject({ type: 'file', mode: 0o600, size: 38 });
    expect(byPath.get(oddName)?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(byPath.get('var/log/xferlog')).toMatchObject({
      size: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    expect(byPath.get('data/alice/latest')).toMatchObject({
      type: 'symlink',
      target: 'report.csv',
    });
    expect(byPath.get('conf/absolute-link')).toMatchObject({
      type: 'symlink',
      target: '/etc/hostname',
    });
    expect(byPath.get('data/hard-b')).toMatchObject({ type: 'hardlink', target: 'data/hard-a' });
    if (isRoot) expect(byPath.get('data/alice/report.csv')).toMatchObject({ uid: 1, gid: 1 });
    expect(m.totals).toEqual(r.totals);
    expect(m.totals.files).toBe(m.entries.filter((e) => e.type === 'file').length);
  });

  it('stores the tree under tree/ so plain tar can recover it by hand', async () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    const manual = join(ws.root, 'manual');
    execFileSync('mkdir', [manual]);

    execFileSync('tar', ['-xzf', out, '-C', manual, '--strip-components=1', 'tree']);

    const a = await hashTree(ws.install, { owners: false });
    const b = await hashTree(manual, { owners: false });
    expect(b.records.filter((r) => r.path !== '.')).toEqual(
      a.records.filter((r) => r.path !== '.'),
    );
  });

  it('names the default backup after the installation, beside it, and never overwrites', async () => {
    writeInstallTree(ws.install);
    const now = new Date('2025-01-31T23:59:59Z');

    const r = await createBackup({ install: ws.install, now });

    expect(r.file).toBe(join(ws.root, 'skiff-backup-20250131T235959Z.tar.gz'));
    expect(besideInstall()).toEqual([
      'skiff',
      'skiff-backup-20250131T235959Z.tar.gz',
      'skiff-backup-20250131T235959Z.tar.gz.sha256',
    ]);
    await expect(createBackup({ install: ws.install, now })).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_OUT_EXISTS',
    });
  });
});

describe('backup should refuse and write nothing if', () => {
  it('the installation holds a FIFO or a socket', async () => {
    writeInstallTree(ws.install);
    execFileSync('mkfifo', [join(ws.install, 'var/run/control.fifo')]);
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(ws.install, 'var/run/skiff.sock'), r));
    const out = join(ws.root, 'b.tar.gz');

    const err = await createBackup({ install: ws.install, out }).catch((e: unknown) => e);

    server.close();
    expect(err).toMatchObject({ code: 'UPLIFT_BACKUP_UNSUPPORTED_ENTRY', exitCode: 2 });
    expect((err as { details: { message: string }[] }).details.map((d) => d.message)).toEqual([
      'var/run/control.fifo is a FIFO',
      'var/run/skiff.sock is a socket',
    ]);
    expect(besideInstall()).toEqual(['skiff']);
  });

  it('the backup file would be inside the installation', async () => {
    writeInstallTree(ws.install);

    await expect(
      createBackup({ install: ws.install, out: join(ws.install, 'var/backup.tar.gz') }),
    ).rejects.toMatchObject({ code: 'UPLIFT_BACKUP_OUT_INSIDE_INSTALL' });
    expect(existsSync(join(ws.install, 'var/backup.tar.gz'))).toBe(false);
  });

  it('the installation does not exist', async () => {
    await expect(createBackup({ install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_INSTALL_NOT_FOUND',
    });
  });
});

describe('verify', () => {
  async function backupOf(): Promise<string> {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, productVersion: '5.3.0 Patch 1' });
    return out;
  }

  it('accepts an intact backup and reports what it holds', async () => {
    const out = await backupOf();

    const r = await verifyBackup(out);

    expect(r).toMatchObject({
      ok: true,
      productVersion: '5.3.0 Patch 1',
      installation: ws.install,
    });
    expect(r).toMatchObject({ checksum: 'matched' });
    expect(r.sha256).toBe(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]);
    expect(
      execFileSync('sha256sum', ['-c', `${out}.sha256`], { cwd: ws.root, encoding: 'utf8' }),
    ).toContain('OK');
  });

  it.each([0.1, 0.35, 0.5, 0.75, 0.97])(
    'detects a flipped byte at %f of the archive',
    async (at) => {
      const out = await backupOf();
      const bytes = readFileSync(out);
      const i = Math.floor(bytes.length * at);
      bytes[i] = (bytes[i] as number) ^ 0x40;
      writeFileSync(out, bytes);

      await expect(verifyBackup(out)).rejects.toMatchObject({
        code: expect.stringMatching(/^UPLIFT_BACKUP_(CORRUPT|ENTRY_MISMATCH|TRUNCATED)$/),
        exitCode: 1,
      });
    },
  );

  it('detects a flipped byte that leaves every entry intact, by the .sha256 sidecar', async () => {
    const out = await backupOf();
    const bytes = readFileSync(out);
    // Byte 4 is the gzip header's MTIME: no checksum inside a gzip file covers it.
    bytes[4] = (bytes[4] as number) ^ 0x01;
    writeFileSync(out, bytes);

    await expect(verifyBackup(out)).rejects.toMatchObject({ code: 'UPLIFT_BACKUP_CORRUPT' });
    rmSync(`${out}.sha256`);
    await expect(verifyBackup(out)).resolves.toMatchObject({ ok: true, checksum: 'absent' });
  });

  it.each([0.5, 0.9, 0.999])('detects a backup cut at %f of its length', async (at) => {
    const out = await backupOf();
    const bytes = readFileSync(out);
    writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * at)));

    await expect(verifyBackup(out)).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_TRUNCATED',
      exitCode: 1,
    });
  });

  it('names the entry whose content differs from the manifest (the gzip layer intact)', async () => {
    const out = await backupOf();
    const tarBytes = gunzipSync(readFileSync(out));
    const at = tarBytes.indexOf('setInterval(() => {}, 1000);');
    tarBytes[at] = 'S'.charCodeAt(0);
    writeFileSync(out, gzipSync(tarBytes));
    rmSync(`${out}.sha256`);

    const err = await verifyBackup(out).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_BACKUP_ENTRY_MISMATCH', exitCode: 1 });
    expect((err as Error).message).toContain('"lib/server.js"');
  });

  it('refuses a file that is not an uplift backup', async () => {
    writeFileSync(join(ws.root, 'plain.txt'), 'hello');
    execFileSync('tar', ['-czf', join(ws.root, 'other.tar.gz'), '-C', ws.root, 'plain.txt']);

    await expect(verifyBackup(join(ws.root, 'plain.txt'))).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_NOT_A_BACKUP',
    });
    await expect(verifyBackup(join(ws.root, 'other.tar.gz'))).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_NOT_A_BACKUP',
    });
    await expect(verifyBackup(join(ws.root, 'missing.tar.gz'))).rejects.toMatchObject({
      code: 'UPLIFT_FILE_NOT_FOUND',
    });
  });
});

describe('restore should error and not write if', () => {
  async function damagedAfterBackup(): Promise<{ out: string; hash: string }> {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    damageInstallTree(ws.install);
    return { out, hash: (await hashTree(ws.install)).hash };
  }

  it.each`
    damage                    | code
    ${'flip a byte'}          | ${/^UPLIFT_BACKUP_(CORRUPT|ENTRY_MISMATCH)$/}
    ${'cut the archive'}      | ${/^UPLIFT_BACKUP_TRUNCATED$/}
    ${'alter a file content'} | ${/^UPLIFT_BACKUP_ENTRY_MISMATCH$/}
  `('the backup is damaged ($damage)', async ({ damage, code }) => {
    const { out, hash } = await damagedAfterBackup();
    const bytes = readFileSync(out);
    if (damage === 'flip a byte') {
      const i = Math.floor(bytes.length * 0.6);
      bytes[i] = (bytes[i] as number) ^ 0x01;
      writeFileSync(out, bytes);
    } else if (damage === 'cut the archive')
      writeFileSync(out, bytes.subarray(0, bytes.length - 200));
    else {
      const tarBytes = gunzipSync(bytes);
      const at = tarBytes.indexOf('http.port=8080');
      tarBytes[at] = 'H'.charCodeAt(0);
      writeFileSync(out, gzipSync(tarBytes));
    }

    await expect(restoreBackup({ backup: out, install: ws.install })).rejects.toMatchObject({
      code: expect.stringMatching(code),
      unchanged: true,
    });

    expect((await hashTree(ws.install)).hash).toBe(hash);
    expect(besideInstall()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('the service runs and --stop was not given', async () => {
    const { out, hash } = await damagedAfterBackup();
    children.push(startFakeService(ws.install));
    const running = await hashTree(ws.install);

    await expect(
      restoreBackup({ backup: out, install: ws.install, service: serviceOf(ws.install) }),
    ).rejects.toMatchObject({
      code: 'UPLIFT_RESTORE_SERVICE_RUNNING',
      exitCode: 1,
    });

    expect((await hashTree(ws.install)).hash).toBe(running.hash);
    expect(running.hash).not.toBe(hash);
    expect(besideInstall()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('there is not enough space for the staging tree', async () => {
    const { out, hash } = await damagedAfterBackup();
    // A header that claims far more content than any disk here holds.
    const tarBytes = gunzipSync(readFileSync(out));
    // Same length, so the tar framing stays valid: 9e18 bytes, padded with JSON whitespace.
    const text = tarBytes
      .toString('latin1')
      .replace(/"bytes": \d+/, (m) => '"bytes": 9e18'.padEnd(m.length));
    writeFileSync(out, gzipSync(Buffer.from(text, 'latin1')));

    await expect(restoreBackup({ backup: out, install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_RESTORE_NO_SPACE',
    });

    expect((await hashTree(ws.install)).hash).toBe(hash);
  });
});

describe('restore should refuse before writing anything if', () => {
  async function backedUp(): Promise<string> {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out });
    return out;
  }

  it('--install is a regular file', async () => {
    const out = await backedUp();
    rmSync(ws.install, { recursive: true });
    writeFileSync(ws.install, 'not an installation\n');

    await expect(restoreBackup({ backup: out, install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_INSTALL_NOT_FOUND',
      exitCode: 2,
      unchanged: true,
    });

    expect(besideInstall()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
    expect(readFileSync(ws.install, 'utf8')).toBe('not an installation\n');
  });

  it('the backup file lies inside the installation (the swap would delete it)', async () => {
    const made = await backedUp();
    const out = join(ws.install, 'b.tar.gz');
    renameSync(made, out);
    renameSync(`${made}.sha256`, `${out}.sha256`);
    const before = await hashTree(ws.install);

    await expect(restoreBackup({ backup: out, install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_OUT_INSIDE_INSTALL',
      exitCode: 2,
    });

    expect((await hashTree(ws.install)).hash).toBe(before.hash);
    expect(besideInstall()).toEqual(['skiff']);
  });

  it('the backup named is a folder', async () => {
    writeInstallTree(ws.install);
    const dir = join(ws.root, 'backups');
    mkdirSync(dir);
    const before = await hashTree(ws.install);

    await expect(restoreBackup({ backup: dir, install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      exitCode: 2,
    });

    expect((await hashTree(ws.install)).hash).toBe(before.hash);
  });

  it.runIf(isRoot)('the installation is on a read-only filesystem', async () => {
    const out = await backedUp();
    const ro = join(ws.root, 'ro');
    mkdirSync(ro);
    const mounted =
      spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1g', 'tmpfs', ro]).status === 0;
    if (!mounted) return;
    try {
      await expect(restoreBackup({ backup: out, install: join(ro, 'inst') })).rejects.toMatchObject(
        { code: 'UPLIFT_PATH_UNWRITABLE', exitCode: 2 },
      );
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});

describe('services', () => {
  it('restore --stop stops the running service just before the swap, --start starts the restored one', async () => {
    writeInstallTree(ws.install, { service: true });
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, service: serviceOf(ws.install) });
    damageInstallTree(ws.install);
    execFileSync(join(ws.install, 'bin/start_all'));
    const oldPid = Number(readFileSync(join(ws.install, 'var/run/skiff.pid'), 'utf8'));

    const r = await restoreBackup({
      backup: out,
      install: ws.install,
      service: serviceOf(ws.install),
      stop: true,
      start: true,
    });

    const newPid = Number(readFileSync(join(ws.install, 'var/run/skiff.pid'), 'utf8'));
    expect(r.service).toMatchObject({ stopped: true, started: true, pids: [newPid] });
    expect(isAlive(oldPid)).toBe(false);
    expect(isAlive(newPid)).toBe(true);
    execFileSync(join(ws.install, 'bin/stop_all'));
    expect(
      (await hashTree(ws.install, { ignore: (p) => p === 'var/log/server.log' })).records,
    ).toEqual(before.records);
  });

  it('backup --stop takes an offline backup and starts the service again', async () => {
    writeInstallTree(ws.install, { service: true });
    execFileSync(join(ws.install, 'bin/start_all'));
    const oldPid = Number(readFileSync(join(ws.install, 'var/run/skiff.pid'), 'utf8'));
    const out = join(ws.root, 'b.tar.gz');

    const r = await createBackup({
      install: ws.install,
      out,
      service: serviceOf(ws.install),
      stop: true,
    });

    const newPid = Number(readFileSync(join(ws.install, 'var/run/skiff.pid'), 'utf8'));
    execFileSync(join(ws.install, 'bin/stop_all'));
    expect(r.consistency).toMatchObject({
      mode: 'offline',
      stoppedByUplift: true,
      runningPids: [oldPid],
    });
    expect(r.service).toMatchObject({ stopped: true, restarted: true });
    expect(newPid).not.toBe(oldPid);
    expect(manifestOf(out).entries.some((e) => e.path === 'var/run/skiff.pid')).toBe(false);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout;
  return !/\) Z /.test(stat);
}
