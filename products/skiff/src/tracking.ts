import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { ReleaseFeatures } from './release.ts';

/** One transfer, whichever table records it. Times are epoch milliseconds. */
export interface Transfer {
  id: string;
  account: string;
  path: string;
  bytes: number;
  sha256: string;
  direction: 'in' | 'out';
  status: 'completed' | 'failed';
  start: number;
  end: number;
}

export type TrackingTable = ReleaseFeatures['trackingTable'];

/**
 * The schema a fresh installation of a version starts with. `transfers` (before 5.3.3 GA) keeps
 * ISO times and upload/download, ok/error; `file_tracking` keeps epoch milliseconds, in/out,
 * completed/failed and a transfer id. Migrating between them is the upgrade pack's job.
 */
export function trackingSchema(
  features: Pick<ReleaseFeatures, 'trackingTable' | 'folderQuotas'>,
): string {
  const table =
    features.trackingTable === 'transfers'
      ? `CREATE TABLE IF NOT EXISTS transfers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('upload', 'download')),
  status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
  started TEXT NOT NULL,
  ended TEXT
);
CREATE INDEX IF NOT EXISTS transfers_started ON transfers (started);`
      : `CREATE TABLE IF NOT EXISTS file_tracking (
  transfer_id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  file_path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  status TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
  start_ts INTEGER NOT NULL,
  end_ts INTEGER
);
CREATE INDEX IF NOT EXISTS file_tracking_account_start ON file_tracking (account, start_ts);`;
  const quotas = features.folderQuotas
    ? `
CREATE TABLE IF NOT EXISTS folder_quotas (
  account TEXT NOT NULL,
  folder TEXT NOT NULL,
  max_bytes INTEGER NOT NULL,
  PRIMARY KEY (account, folder)
);`
    : '';
  return `${table}${quotas}\n`;
}

/** Opens var/db/skiff.db settings-wise the same way for the server, the scheduler and the installer. */
export function prepareDatabase(db: Database, features: ReleaseFeatures): void {
  // WAL: the scheduler process (5.4+) and the server write to the same file.
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(trackingSchema(features));
}

type Row = Record<string, string | number | null>;

function fromRow(table: TrackingTable, r: Row): Transfer {
  if (table === 'transfers') {
    return {
      id: String(r.id),
      account: String(r.account),
      path: String(r.path),
      bytes: Number(r.size),
      sha256: String(r.sha256 ?? ''),
      direction: r.direction === 'upload' ? 'in' : 'out',
      status: r.status === 'ok' ? 'completed' : 'failed',
      start: Date.parse(String(r.started)),
      end: r.ended === null ? Number.NaN : Date.parse(String(r.ended)),
    };
  }
  return {
    id: String(r.transfer_id),
    account: String(r.account),
    path: String(r.file_path),
    bytes: Number(r.bytes),
    sha256: String(r.sha256 ?? ''),
    direction: r.direction === 'in' ? 'in' : 'out',
    status: r.status === 'completed' ? 'completed' : 'failed',
    start: Number(r.start_ts),
    end: r.end_ts === null ? Number.NaN : Number(r.end_ts),
  };
}

/** Records a transfer and returns its id. */
export function insertTransfer(
  db: Database,
  table: TrackingTable,
  t: Omit<Transfer, 'id'> & { id?: string },
): string {
  if (table === 'transfers') {
    const info = db
      .prepare(
        'INSERT INTO transfers (account, path, size, sha256, direction, status, started, ended) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        t.account,
        t.path,
        t.bytes,
        t.sha256,
        t.direction === 'in' ? 'upload' : 'download',
        t.status === 'completed' ? 'ok' : 'error',
        new Date(t.start).toISOString(),
        new Date(t.end).toISOString(),
      );
    return String(info.lastInsertRowid);
  }
  const id = t.id ?? randomUUID();
  db.prepare(
    'INSERT INTO file_tracking (transfer_id, account, file_path, bytes, sha256, direction, status, start_ts, end_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(id, t.account, t.path, t.bytes, t.sha256, t.direction, t.status, t.start, t.end);
  return id;
}

/** The newest transfers first, of one account or of all. */
export function listTransfers(
  db: Database,
  table: TrackingTable,
  opts: { account?: string; limit?: number } = {},
): Transfer[] {
  const start = table === 'transfers' ? 'started' : 'start_ts';
  const where = opts.account === undefined ? '' : 'WHERE account = ?';
  const params = opts.account === undefined ? [] : [opts.account];
  const rows = db
    .prepare(`SELECT * FROM ${table} ${where} ORDER BY ${start} DESC LIMIT ?`)
    .all(...params, opts.limit ?? -1) as Row[];
  return rows.map((r) => fromRow(table, r));
}

/** Removes the transfers that ended before `before` and returns them, in one transaction. */
export function takeTransfersBefore(
  db: Database,
  table: TrackingTable,
  before: number,
): Transfer[] {
  const [end, bound] =
    table === 'transfers' ? ['ended', new Date(before).toISOString()] : ['end_ts', before];
  return db.transaction(() => {
    const rows = db
      .prepare(`SELECT * FROM ${table} WHERE ${end} < ? ORDER BY ${end}`)
      .all(bound) as Row[];
    db.prepare(`DELETE FROM ${table} WHERE ${end} < ?`).run(bound);
    return rows.map((r) => fromRow(table, r));
  })();
}
