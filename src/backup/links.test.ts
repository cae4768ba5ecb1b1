import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  countRows,
  makeWorkspace,
  serviceOf,
  startFakeService,
  type Workspace,
  writeInstallTree,
} from '../../test/util/backup-tree.ts';
import { put } from '../../test/util/tree-fixture.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { type BackupManifest, createBackup, restoreBackup, verifyBackup } from './index.ts';

/**
 * Operators link configuration files, folders and database folders to other disks. The links are
 * the customer's: a backup records them as links, and restore puts them back as links. Only a
 * link the profile declares as data (paths.data) is also backed up through, so restoring a
 * backup taken before a failed migration brings a database kept on another disk back too.
 */
let ws: Workspace;
/** Another disk, outside the installation. */
let disk2: string;

beforeEach(async () => {
  ws = await makeWorkspace();
  disk2 = join(ws.root, 'disk2');
  mkdirSync(disk2);
});

afterEach(async () => {
  await ws.cleanup();
});

function manifestOf(file: string): BackupManifest {
  const text = execFileSync('tar', ['-xzOf', file, 'uplift-backup/manifest.json'], {
    encoding: 'utf8',
  });
  return JSON.parse(text) as BackupManifest;
}

function writeDb(file: string, rows: number): void {
  const db = new Database(file);
  db.exec('CREATE TABLE IF NOT EXISTS transfers (id INTEGER PRIMARY KEY, account TEXT)');
  const insert = db.prepare('INSERT INTO transfers (account) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`acct${i}`);
  })();
  db.close();
}

/** The customer's layout: a linked configuration file, a linked folder, a linked log folder and a linked database folder. */
function linkTree(): void {
  writeInstallTree(ws.install);
  put(disk2, 'conf/skiff.properties', 'http.port=9090\n');
  rmSync(join(ws.install, 'conf/skiff.properties'));
  symlinkSync(join(disk2, 'conf/skiff.properties'), join(ws.install, 'conf/skiff.properties'));
  put(disk2, 'keys/server.key', 'secret\n', 0o600);
  symlinkSync(join(disk2, 'keys'), join(ws.install, 'keys'));
  mkdirSync(join(disk2, 'logs'));
  put(disk2, 'logs/server.log', 'started\n');
  symlinkSync(join(disk2, 'logs'), join(ws.install, 'logs'));
  mkdirSync(join(disk2, 'db'));
  writeDb(join(disk2, 'db/transfers.db'), 100);
  put(disk2, 'db/nested/notes.txt', 'kept behind the link\n', 0o640);
  symlinkSync(join(disk2, 'db'), join(ws.install, 'dbdata'));
}

describe('links in the installation', () => {
  it('are recorded as links and never followed to read', async () => {
    linkTree();
    const out = join(ws.root, 'b.tar.gz');

    await createBackup({ install: ws.install, out });

    const byPath = new Map(manifestOf(out).entries.map((e) => [e.path, e]));
    expect(byPath.get('keys')).toMatchObject({ type: 'symlink', target: join(disk2, 'keys') });
    expect(byPath.get('conf/skiff.properties')).toMatchObject({ type: 'symlink' });
    expect(byPath.has('keys/server.key')).toBe(false);
    expect(byPath.has('dbdata/transfers.db')).toBe(false);
  });

  it('keeps a link that the profile says is produced at run time (paths.generated)', async () => {
    linkTree();
    const before = await hashTree(ws.install);
    const disk2Before = await hashTree(disk2);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, generated: ['logs/**'] });
    rmSync(join(ws.install, 'logs'));

    await restoreBackup({ backup: out, install: ws.install });

    expect(readlinkSync(join(ws.install, 'logs'))).toBe(join(disk2, 'logs'));
    expect((await hashTree(ws.install)).records).toEqual(before.records);
    expect((await hashTree(disk2)).hash).toBe(disk2Before.hash);
  });

  it('are put back as links, and restore does not touch what a link that is not data points to', async () => {
    linkTree();
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, data: ['dbdata/**'] });
    // The operator's later changes on the other disk are theirs: not data, not restored.
    put(disk2, 'keys/new.key', 'rotated\n');
    for (const rel of ['keys', 'conf/skiff.properties']) {
      rmSync(join(ws.install, rel));
      put(ws.install, rel === 'keys' ? 'keys/stray' : rel, 'a file where the link was\n');
    }
    const disk2Keys = await hashTree(join(disk2, 'keys'));

    await restoreBackup({ backup: out, install: ws.install, data: ['dbdata/**'] });

    expect(lstatSync(join(ws.install, 'keys')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(ws.install, 'conf/skiff.properties')).isSymbolicLink()).toBe(true);
    expect((await hashTree(ws.install)).records).toEqual(before.records);
    expect((await hashTree(join(disk2, 'keys'))).hash).toBe(disk2Keys.hash);
  });
});

describe('a link the profile declares as data', () => {
  it('is backed up through: what it points to comes back after a failed migration', async () => {
    linkTree();
    const installBefore = await hashTree(ws.install);
    const dbBefore = await hashTree(join(disk2, 'db'));
    const out = join(ws.root, 'b.tar.gz');

    const r = await createBackup({ install: ws.install, out, data: ['dbdata/**'] });
    // A migration that goes wrong: rows gone, a stray file, the link replaced by a folder.
    const db = new Database(join(disk2, 'db/transfers.db'));
    db.exec('DELETE FROM transfers WHERE id > 10');
    db.close();
    put(disk2, 'db/migrated.flag', 'v2\n');
    rmSync(join(disk2, 'db/nested'), { recursive: true });
    rmSync(join(ws.install, 'dbdata'));
    mkdirSync(join(ws.install, 'dbdata'));

    await verifyBackup(out);
    await restoreBackup({ backup: out, install: ws.install, data: ['dbdata/**'] });

    expect(countRows(join(disk2, 'db/transfers.db'))).toBe(100);
    expect((await hashTree(join(disk2, 'db'))).records).toEqual(dbBefore.records);
    expect((await hashTree(ws.install)).records).toEqual(installBefore.records);
    expect(r.behind).toEqual([
      expect.objectContaining({ path: 'dbdata', target: join(disk2, 'db') }),
    ]);
    expect(manifestOf(out).format).toBe('uplift-backup/2');
    expect(readdirSync(disk2).sort()).toEqual(['conf', 'db', 'keys', 'logs']);
  });

  it('is left alone by a restore whose profile does not declare it as data', async () => {
    linkTree();
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, data: ['dbdata/**'] });
    put(disk2, 'db/migrated.flag', 'v2\n');
    const dbAfter = await hashTree(join(disk2, 'db'));

    const r = await restoreBackup({ backup: out, install: ws.install });

    expect((await hashTree(join(disk2, 'db'))).hash).toBe(dbAfter.hash);
    expect(r.behind).toEqual([expect.objectContaining({ path: 'dbdata', restored: false })]);
  });

  it('without data links, a backup stays in the first format', async () => {
    linkTree();
    const out = join(ws.root, 'b.tar.gz');

    await createBackup({ install: ws.install, out });

    expect(manifestOf(out).format).toBe('uplift-backup/1');
  });
});

describe('a data link', () => {
  it('to a single file is backed up through and the file comes back', async () => {
    linkTree();
    put(disk2, 'license.db', 'licensed to acme\n', 0o600);
    symlinkSync(join(disk2, 'license.db'), join(ws.install, 'conf/license.db'));
    const before = await hashTree(disk2);
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, data: ['conf/license.db'] });
    put(disk2, 'license.db', 'expired\n');

    const r = await restoreBackup({ backup: out, install: ws.install, data: ['conf/license.db'] });

    expect((await hashTree(disk2)).records).toEqual(before.records);
    expect(r.behind).toEqual([
      { path: 'conf/license.db', target: join(disk2, 'license.db'), restored: true },
    ]);
  });

  it('that dangles is recorded as a link only, and says so', async () => {
    linkTree();
    symlinkSync(join(disk2, 'gone'), join(ws.install, 'spool'));
    const before = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');

    const r = await createBackup({ install: ws.install, out, data: ['spool/**'] });
    await restoreBackup({ backup: out, install: ws.install, data: ['spool/**'] });

    expect(r.behind).toEqual([]);
    expect(r.consistency.excluded).toEqual([
      { path: 'spool', reason: expect.stringContaining('does not exist: only the link') },
    ]);
    expect((await hashTree(ws.install)).records).toEqual(before.records);
  });
});

describe('restore of a data link should refuse and write nothing if', () => {
  it("the folder that holds the link's target is gone", async () => {
    linkTree();
    const out = join(ws.root, 'b.tar.gz');
    await createBackup({ install: ws.install, out, data: ['dbdata/**'] });
    rmSync(disk2, { recursive: true });
    const before = await hashTree(ws.install);

    await expect(
      restoreBackup({ backup: out, install: ws.install, data: ['dbdata/**'] }),
    ).rejects.toMatchObject({ code: 'UPLIFT_BACKUP_INSTALL_NOT_FOUND', unchanged: true });

    expect((await hashTree(ws.install)).hash).toBe(before.hash);
    expect(readdirSync(ws.root).sort()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });
});

describe('an online backup through a data link', () => {
  it('copies a SQLite database behind the link with the online backup API', async () => {
    linkTree();
    const child = startFakeService(ws.install);
    try {
      const out = join(ws.root, 'b.tar.gz');

      const r = await createBackup({
        install: ws.install,
        out,
        service: serviceOf(ws.install),
        data: ['dbdata/**'],
      });

      expect(r.consistency.mode).toBe('online');
      expect(r.consistency.sqliteOnlineCopies).toContain('dbdata/transfers.db');
    } finally {
      child.kill();
    }
  });
});
