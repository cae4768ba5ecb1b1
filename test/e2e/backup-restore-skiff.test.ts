import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

const skiffProduct = join(repoRoot, 'products/skiff/src/index.ts');

interface SkiffApi {
  ensureSampleInstallation(opts: { dir: string }): Promise<{
    install: string;
    url: string;
    version: string;
    accounts: { name: string; password: string }[];
  }>;
  stopInstallation(dir: string): Promise<unknown>;
  probeHealth(url: string): Promise<{ status: string; version: string } | undefined>;
  readServerUrl(install: string): string | undefined;
}

function uplift(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Rows per table: the database's content in a form a test can compare. */
function tableCounts(dbFile: string): Record<string, number> {
  const db = new Database(dbFile, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map((t) => [
        t.name,
        (db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

/** Tracking rows of uploads whose path ends with `name` (skiff before 5.3.3 tracks in `transfers`). */
function tracked(dbFile: string, name: string): number {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (
      db.prepare('SELECT count(*) AS n FROM transfers WHERE path LIKE ?').get(`%/${name}`) as {
        n: number;
      }
    ).n;
  } finally {
    db.close();
  }
}

async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the server');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the server writes on its own while it runs (pids, port, logs, its database): compared separately. */
const runtimeState = (p: string) =>
  p === 'var/run' || p === 'var/log' || p === 'var/db' || p === 'var/tmp';

/**
 * The reference product end to end: a skiff sample installation (built and installed by
 * products/skiff, real accounts and uploads, its server running), backed up online, changed by
 * real traffic and by hand, then restored with --stop --start: the server answers on the restored
 * tree, the upload made after the backup is gone, the files and the database are as they were.
 */
describe('backup and restore of a running skiff installation', () => {
  let skiff: SkiffApi;
  let tmp: string;
  let install: string;

  beforeAll(async () => {
    skiff = (await import(skiffProduct)) as SkiffApi;
    tmp = await mkdtemp(join(tmpdir(), 'uplift-backup-skiff-'));
  }, 120_000);

  afterAll(async () => {
    if (install) await skiff.stopInstallation(install).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  });

  it('restores the files, the database and a running server', async () => {
    const sample = await skiff.ensureSampleInstallation({ dir: tmp });
    install = sample.install;
    const account = sample.accounts[0] as { name: string; password: string };
    const auth = `Basic ${Buffer.from(`${account.name}:${account.password}`).toString('base64')}`;
    const put = (path: string, body: string) =>
      fetch(`${sample.url}/files${path}`, {
        method: 'PUT',
        headers: { authorization: auth },
        body,
      });
    const dbFile = join(install, 'var/db/skiff.db');
    expect((await put('/before-backup.txt', 'kept by the backup\n')).status).toBe(201);
    // The server records the transfer just after it answers.
    await eventually(() => tracked(dbFile, 'before-backup.txt') === 1);
    const tree = await hashTree(install, { ignore: runtimeState });
    const rows = tableCounts(dbFile);
    const out = join(tmp, 'skiff.tar.gz');

    const backup = uplift(['backup', '--install', install, '--out', out, '--json']);

    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({
      productVersion: sample.version,
      consistency: { mode: 'online', sqliteOnlineCopies: ['var/db/skiff.db'] },
    });
    expect((await put('/after-backup.txt', 'gone after the restore\n')).status).toBe(201);
    const afterBackup = join(install, 'data', account.name, 'after-backup.txt');
    expect(existsSync(afterBackup)).toBe(true);
    await eventually(() => tracked(dbFile, 'after-backup.txt') === 1);
    rmSync(join(install, 'data', account.name, 'before-backup.txt'));
    writeFileSync(join(install, 'conf/start-script.conf'), 'HEAP_MB=1\n');

    const restore = uplift(['restore', out, '--install', install, '--stop', '--start', '--json']);

    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ service: { stopped: true, started: true } });
    const url = skiff.readServerUrl(install) as string;
    expect(await skiff.probeHealth(url)).toMatchObject({ version: sample.version });
    expect(existsSync(afterBackup)).toBe(false);
    expect((await hashTree(install, { ignore: runtimeState })).records).toEqual(tree.records);
    expect(tableCounts(dbFile)).toEqual(rows);
    expect(tracked(dbFile, 'after-backup.txt')).toBe(0);
    // Last: the download is itself tracked.
    const got = await fetch(`${url}/files/before-backup.txt`, { headers: { authorization: auth } });
    expect(await got.text()).toBe('kept by the backup\n');
  }, 120_000);
});
