-- skiff 5.3.3 GA: file tracking moves from `transfers` (ISO times, upload/download, ok/error) to
-- `file_tracking` (epoch milliseconds, in/out, completed/failed, a text transfer id). Run in one
-- transaction. Idempotent: a second run finds no `transfers` table rows left to copy.
CREATE TABLE IF NOT EXISTS transfers (
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
CREATE TABLE IF NOT EXISTS file_tracking (
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
CREATE INDEX IF NOT EXISTS file_tracking_account_start ON file_tracking (account, start_ts);
INSERT OR IGNORE INTO file_tracking
  (transfer_id, account, file_path, bytes, sha256, direction, status, start_ts, end_ts)
SELECT
  'transfers-' || id,
  account,
  path,
  size,
  sha256,
  CASE direction WHEN 'upload' THEN 'in' ELSE 'out' END,
  CASE status WHEN 'ok' THEN 'completed' ELSE 'failed' END,
  CAST(ROUND((julianday(started) - 2440587.5) * 86400000.0) AS INTEGER),
  CASE WHEN ended IS NULL THEN NULL
       ELSE CAST(ROUND((julianday(ended) - 2440587.5) * 86400000.0) AS INTEGER) END
FROM transfers;
DROP TABLE transfers;
