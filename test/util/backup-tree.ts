import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ServiceControl } from '../../src/backup/index.ts';
import { serviceControl } from '../../src/lifecycle/index.ts';
import { Lifecycle } from '../../src/lifecycle/schema.ts';

/**
 * Installation-like trees for backup and restore tests: every kind of entry a backup must bring
 * back (nested directories, relative, absolute and dangling symlinks, a hard-link pair, an
 * executable, modes 0600/0750/02770, an empty file, spaces and non-ASCII in names, a file owned
 * by uid 1 when running as root) and a SQLite database with rows.
 */
export const isRoot = process.getuid?.() === 0;

export interface Workspace {
  /** A fresh temporary folder holding the installation and backups. */
  root: string;
  install: string;
  cleanup: () => Promise<void>;
}

export async function makeWorkspace(): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'uplift-backup-test-'));
  const install = join(root, 'skiff');
  return { root, install, cleanup: () => rm(root, { recursive: true, force: true }) };
}

export const oddName = 'conf/private dir/a file ü ✓.txt';

/** Writes the tree; `service: true` adds bin/start_all and bin/stop_all around a real idle process. */
export function writeInstallTree(install: string, opts: { service?: boolean } = {}): void {
  const w = (rel: string, data: string | Buffer, mode = 0o644) => {
    const p = join(install, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, data);
    chmodSync(p, mode);
  };
  mkdirSync(install, { recursive: true });
  w('version', '5.3.0 Patch 1\n');
  w('lib/server.js', 'setInterval(() => {}, 1000);\n');
  w('conf/skiff.properties', 'http.port=8080\nhttp.host=127.0.0.1\n');
  w('conf/accounts.json', '{ "accounts": [{ "name": "alice" }] }\n', 0o600);
  mkdirSync(join(install, 'conf/private dir'), { recursive: true });
  w(oddName, 'spaces and unicode\n');
  chmodSync(join(install, 'conf/private dir'), 0o750);
  w('var/log/xferlog', '');
  mkdirSync(join(install, 'var/run'), { recursive: true });
  w('data/alice/report.csv', 'id,bytes\n1,100\n');
  if (isRoot) chownSync(join(install, 'data/alice/report.csv'), 1, 1);
  symlinkSync('report.csv', join(install, 'data/alice/latest'));
  // Outside data/: a profile that declares data/** (skiff's) backs a data link up through, and
  // its restore would write the system file behind it.
  symlinkSync('/etc/hostname', join(install, 'conf/absolute-link'));
  symlinkSync('../nowhere', join(install, 'data/dangling'));
  w('data/hard-a', 'shared by two names\n');
  linkSync(join(install, 'data/hard-a'), join(install, 'data/hard-b'));
  mkdirSync(join(install, 'data/shared'));
  chmodSync(join(install, 'data/shared'), 0o2770);
  w('data/big.bin', Buffer.alloc(3 << 20, 0x5a));
  if (opts.service) {
    w(
      'bin/start_all',
      [
        '#!/bin/sh',
        'cd "$(dirname "$0")/.." || exit 1',
        'mkdir -p var/run var/log',
        `nohup "${process.execPath}" "$PWD/lib/server.js" >var/log/server.log 2>&1 &`,
        'echo $! >var/run/skiff.pid',
        '',
      ].join('\n'),
      0o755,
    );
    w(
      'bin/stop_all',
      [
        '#!/bin/sh',
        'cd "$(dirname "$0")/.." || exit 1',
        'for f in var/run/*.pid; do [ -f "$f" ] && kill "$(cat "$f")"; rm -f "$f"; done',
        '',
      ].join('\n'),
      0o755,
    );
  } else w('bin/start_all', '#!/bin/sh\nexit 0\n', 0o755);
  mkdirSync(join(install, 'var/db'), { recursive: true });
  const db = new Database(join(install, 'var/db/skiff.db'));
  db.exec('CREATE TABLE transfers (id INTEGER PRIMARY KEY, account TEXT, bytes INTEGER)');
  const insert = db.prepare('INSERT INTO transfers (account, bytes) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run(`acct${i % 7}`, i * 10);
  })();
  db.close();
}

/** Changes a bit of everything: deletes, edits, modes, owners, strays, a link target, and drops the table. */
export function damageInstallTree(install: string): void {
  const p = (rel: string) => join(install, rel);
  // Still a program that runs, so a service can start on the damaged tree.
  writeFileSync(p('lib/server.js'), '// tampered\nsetInterval(() => {}, 2000);\n');
  chmodSync(p('conf/accounts.json'), 0o644);
  if (isRoot) chownSync(p('data/alice/report.csv'), 0, 0);
  writeFileSync(p('data/stray.txt'), 'created after the backup\n');
  mkdirSync(p('data/new-dir/deeper'), { recursive: true });
  writeFileSync(p('data/hard-b'), 'no longer a link\n');
  chmodSync(p('conf/private dir'), 0o755);
  const db = new Database(p('var/db/skiff.db'));
  db.exec('DROP TABLE transfers');
  db.close();
  for (const rel of ['conf/skiff.properties', 'data/alice/latest', 'var/log'])
    rmSync(p(rel), { recursive: true, force: true });
  symlinkSync('elsewhere', p('data/alice/latest'));
}

export function countRows(dbFile: string): number {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM transfers').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A process that stays up; its pid goes into `<install>/var/run/<name>.pid` so uplift sees a running service. */
export function startFakeService(install: string, name = 'skiff'): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  mkdirSync(join(install, 'var/run'), { recursive: true });
  writeFileSync(join(install, `var/run/${name}.pid`), `${child.pid}\n`);
  return child;
}

/**
 * The services of a test tree as a profile would declare them (bin/start_all, bin/stop_all, every
 * var/run/*.pid), as backup and restore get them from src/lifecycle.
 */
export function serviceOf(install: string): ServiceControl {
  const lifecycle = Lifecycle.parse({
    services: [
      {
        name: 'server',
        start: { argv: ['bin/start_all'] },
        stop: { argv: ['bin/stop_all'] },
        pidFile: 'var/run/*.pid',
      },
    ],
  });
  return serviceControl({ install, profileDir: install, lifecycle });
}
