import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace, writeInstallTree } from '../util/backup-tree.ts';
import { cliPath, faultsCliPath, repoRoot } from '../util/run-cli.ts';
import { put } from '../util/tree-fixture.ts';
import { hashTree } from '../util/tree-hash.ts';

/**
 * The customer's layout through the built CLI: the database folder linked to another disk and
 * declared as data by the profile, a configuration folder linked there too (not data). A restore
 * of a backup taken before a failed migration brings the database on the other disk back, leaves
 * the configuration folder's target alone, and an interrupted restore finishes both.
 */
let ws: Workspace;
let disk2: string;
let profile: string;

beforeEach(async () => {
  ws = await makeWorkspace();
  disk2 = join(ws.root, 'disk2');
  profile = join(ws.root, 'profile');
  put(
    profile,
    'profile.yaml',
    [
      'profile: 1',
      'name: linked',
      'title: linked test product',
      'catalog: catalog.yaml',
      'detection:',
      "  version: { file: version, pattern: '^(?<version>.+)$' }",
      'paths:',
      '  data: [dbdata/**]',
      '',
    ].join('\n'),
  );
  put(
    profile,
    'catalog.yaml',
    [
      'catalog: 1',
      'product: linked',
      'title: linked test product',
      'versionScheme: dotted-patch',
      'illustrative: true',
      'releases:',
      "  - { version: '5.3.0 Patch 1', kind: ga }",
      'upgrade: {}',
      'durations:',
      '  downloadBytesPerSecond: 50000000',
      '  backup: { seconds: 5 }',
      '  stop: { seconds: 1 }',
      '  apply: { seconds: 5 }',
      '  migrate: { seconds: 1 }',
      '  start: { seconds: 1 }',
      '  validate: { seconds: 5 }',
      '  rollback: { seconds: 5 }',
      'reason: a product that exists only in this test',
      '',
    ].join('\n'),
  );
  writeInstallTree(ws.install);
  mkdirSync(join(disk2, 'db'), { recursive: true });
  const db = new Database(join(disk2, 'db/transfers.db'));
  db.exec('CREATE TABLE transfers (id INTEGER PRIMARY KEY, account TEXT)');
  db.exec("INSERT INTO transfers (account) VALUES ('alice'), ('bob'), ('carol')");
  db.close();
  symlinkSync(join(disk2, 'db'), join(ws.install, 'dbdata'));
  put(disk2, 'conf/extra.properties', 'a=1\n');
  symlinkSync(join(disk2, 'conf'), join(ws.install, 'conf-extra'));
});

afterEach(async () => {
  await ws.cleanup();
});

function uplift(args: string[], crashAt?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  if (crashAt) env.UPLIFT_TEST_CRASH_AT = crashAt;
  else delete env.UPLIFT_TEST_CRASH_AT;
  const r = spawnSync(process.execPath, [crashAt ? faultsCliPath : cliPath, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A migration that went wrong on the other disk, and a configuration change there by the operator. */
function migrateBadly(): void {
  const db = new Database(join(disk2, 'db/transfers.db'));
  db.exec('DELETE FROM transfers');
  db.close();
  put(disk2, 'db/schema-v2.flag', 'migrated\n');
  put(disk2, 'conf/extra.properties', 'a=2\n');
}

describe('uplift backup and restore of a data link (CLI)', () => {
  it('backs up through the declared data link and restores what it points to; the other link stays a link', async () => {
    const install = await hashTree(ws.install);
    const db = await hashTree(join(disk2, 'db'));
    const out = join(ws.root, 'b.tar.gz');

    const backup = uplift(['backup', '--install', ws.install, '--profile', profile, '--out', out]);
    const verify = uplift(['backup', '--verify', out]);
    migrateBadly();
    const conf = await hashTree(join(disk2, 'conf'));
    const restore = uplift(['restore', out, '--install', ws.install, '--profile', profile]);

    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    // Text output wraps at 80 columns: compared with whitespace collapsed.
    const flat = (t: string) => t.replace(/\s+/g, ' ');
    expect(flat(backup.stdout)).toContain(`behind link dbdata -> ${join(disk2, 'db')}`);
    expect(flat(verify.stdout)).toContain(`behind link dbdata -> ${join(disk2, 'db')}: 1 file`);
    expect(restore.code).toBe(0);
    expect(flat(restore.stdout)).toContain(
      `behind link dbdata -> ${join(disk2, 'db')}: restored what the backup held behind it`,
    );
    expect((await hashTree(join(disk2, 'db'))).records).toEqual(db.records);
    expect((await hashTree(ws.install)).records).toEqual(install.records);
    expect((await hashTree(join(disk2, 'conf'))).hash).toBe(conf.hash);
    expect(readdirSync(disk2).sort()).toEqual(['conf', 'db']);
  });

  it.each([
    'restore-before-swap',
    'restore-between-renames',
    'restore-before-behind-swap',
    'restore-behind-between-renames',
  ])('finishes a restore killed at %s, the data link target included', async (crashAt) => {
    const install = await hashTree(ws.install);
    const db = await hashTree(join(disk2, 'db'));
    const out = join(ws.root, 'b.tar.gz');
    expect(
      uplift(['backup', '--install', ws.install, '--profile', profile, '--out', out]).code,
    ).toBe(0);
    migrateBadly();

    const killed = uplift(['restore', out, '--install', ws.install, '--profile', profile], crashAt);
    const again = uplift(['restore', out, '--install', ws.install, '--profile', profile]);

    expect(killed.signal).toBe('SIGKILL');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect((await hashTree(join(disk2, 'db'))).records).toEqual(db.records);
    expect((await hashTree(ws.install)).records).toEqual(install.records);
    expect(readdirSync(disk2).sort()).toEqual(['conf', 'db']);
    expect(readdirSync(ws.root).sort()).toEqual([
      'b.tar.gz',
      'b.tar.gz.sha256',
      'disk2',
      'profile',
      'skiff',
    ]);
  });
});
