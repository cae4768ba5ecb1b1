import { UpliftError } from '../errors/index.ts';

const magic = Buffer.from('SQLite format 3\0', 'latin1');

/** True when `head` starts with the 16-byte header every SQLite 3 database file has. */
export function isSqliteHeader(head: Uint8Array): boolean {
  return head.length >= magic.length && magic.equals(head.subarray(0, magic.length));
}

/** Files SQLite keeps beside a database; a copy made by the online backup API must not be restored next to them. */
export const sqliteSidecars = ['-wal', '-shm', '-journal'] as const;

/**
 * Copies a live database with SQLite's online backup API. All pages go in one step under one read
 * transaction, so the copy is one committed state even while another process keeps writing (a
 * stepwise copy would restart each time the writer commits, and might never finish).
 */
export async function copySqliteOnline(source: string, dest: string, rel: string): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true, timeout: 10_000 });
    await db.backup(dest, { progress: () => 0x7fffffff });
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_BACKUP_SQLITE_COPY_FAILED',
      `could not copy the SQLite database ${rel} while the service runs: ${(err as Error).message}`,
      {
        cause: err,
        hint: 'Run the backup with --stop to copy it with the service stopped.',
        // Only the copy in the backup's scratch folder was written, and it is removed.
        unchanged: true,
      },
    );
  } finally {
    db?.close();
  }
}
