/**
 * Backup and restore of an installation: a consistent tar.gz with a manifest of hashes, owners and
 * modes; verification; and a crash-safe restore of the exact tree. See docs/backup.md.
 */
export {
  type BackupResult,
  type CreateBackupOptions,
  createBackup,
  defaultGzipLevel,
} from './create.ts';
export { checksumFile } from './durable.ts';
export {
  journalPath,
  type Recovery,
  type RestoreJournal,
  recoverInterruptedRestore,
  refuseIfRestoreInterrupted,
} from './journal.ts';
export { formatProgress, progressPrinter } from './progress.ts';
export { readBackupInfo } from './read-archive.ts';
export { type RestoreOptions, type RestoreResult, restoreBackup } from './restore.ts';
export type { RunningProcess, ServiceControl, ServiceControlOptions } from './service.ts';
export {
  archiveNames,
  type BackupInfo,
  type BackupManifest,
  type BackupTotals,
  backupFormat,
  type Consistency,
  type EntryType,
  type ManifestEntry,
  type Progress,
  type ProgressListener,
} from './types.ts';
export { type VerifyResult, verifyBackup } from './verify.ts';
