import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeWorkspace, serviceOf, type Workspace } from '../../test/util/backup-tree.ts';
import { createBackup, restoreBackup } from './index.ts';

let ws: Workspace;
let writer: ChildProcess | undefined;

beforeEach(async () => {
  ws = await makeWorkspace();
});

afterEach(async () => {
  writer?.kill();
  await ws.cleanup();
});

/**
 * Commits as fast as it can, each transaction adding 50 rows and raising a counter by 50, so a copy
 * is consistent exactly when count(items) equals the counter.
 */
const writerScript = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
const ins = db.prepare('INSERT INTO items (payload) VALUES (?)');
const upd = db.prepare('UPDATE counter SET n = n + 50');
const tx = db.transaction(() => { for (let i = 0; i < 50; i++) ins.run('w'.repeat(200)); upd.run(); });
let rounds = 0;
const step = () => { tx(); if (++rounds === 5) process.stdout.write('ready\\n'); setImmediate(step); };
step();
`;

function readCounts(file: string): { items: number; counter: number; integrity: string } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      items: (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n,
      counter: (db.prepare('SELECT n FROM counter').get() as { n: number }).n,
      integrity: db.pragma('integrity_check', { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

it('copies a SQLite database that another process writes during the backup as one consistent state', async () => {
  const dbFile = join(ws.install, 'var/db/app.db');
  mkdirSync(join(ws.install, 'var/db'), { recursive: true });
  mkdirSync(join(ws.install, 'var/run'), { recursive: true });
  writeFileSync(join(ws.install, 'version'), '5.3.3 GA\n');
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE items (id INTEGER PRIMARY KEY, payload TEXT); CREATE TABLE counter (n INTEGER)',
  );
  const seed = db.prepare('INSERT INTO items (payload) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 40_000; i++) seed.run('s'.repeat(200));
  })();
  db.prepare('INSERT INTO counter VALUES (40000)').run();
  db.close();
  const w = spawn(process.execPath, ['-e', writerScript, dbFile], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  writer = w;
  await new Promise<void>((resolve) => w.stdout?.once('data', () => resolve()));
  writeFileSync(join(ws.install, 'var/run/writer.pid'), `${w.pid}\n`);
  const atStart = readCounts(dbFile).counter;
  const out = join(ws.root, 'online.tar.gz');

  const r = await createBackup({ install: ws.install, out, service: serviceOf(ws.install) });

  const atEnd = readCounts(dbFile).counter;
  w.kill();
  expect(atEnd).toBeGreaterThan(atStart);
  expect(r.consistency).toMatchObject({
    mode: 'online',
    runningPids: [w.pid],
    stoppedByUplift: false,
    sqliteOnlineCopies: ['var/db/app.db'],
  });
  expect(r.consistency.excluded.map((e) => e.path).sort()).toEqual([
    'var/db/app.db-shm',
    'var/db/app.db-wal',
    'var/run/writer.pid',
  ]);
  const target = join(ws.root, 'restored');
  await restoreBackup({ backup: out, install: target });
  const copy = readCounts(join(target, 'var/db/app.db'));
  expect(copy.integrity).toBe('ok');
  expect(copy.items).toBe(copy.counter);
  expect(copy.counter).toBeGreaterThanOrEqual(atStart);
});
