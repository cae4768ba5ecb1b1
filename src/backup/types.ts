/**
 * The archive format this module writes; bump it when the layout or manifest changes, and keep
 * reading the older ones ({@link readableFormats}). `/2` adds what is behind the installation's
 * data links (`behindLinks`, `behind`, the `behind/` entries); a backup without data links is
 * still written as `/1`, so an older uplift reads it.
 */
export const backupFormat = 'uplift-backup/2';
export const firstBackupFormat = 'uplift-backup/1';
export type BackupFormat = typeof backupFormat | typeof firstBackupFormat;
export const readableFormats: readonly string[] = [firstBackupFormat, backupFormat];

/** Entry names inside the archive: metadata first and last, the installation tree in between. */
export const archiveNames = {
  header: 'uplift-backup/header.json',
  manifest: 'uplift-backup/manifest.json',
  treePrefix: 'tree/',
  /** `behind/<n>/…`: what the n-th data link points to (`behind/<n>` alone when it is a file). */
  behindPrefix: 'behind/',
} as const;

export type EntryType = 'directory' | 'file' | 'symlink' | 'hardlink';

/** One entry of the installation, as recorded in the manifest. The manifest, not the tar headers, is authoritative. */
export interface ManifestEntry {
  /** POSIX path relative to the installation; `.` is the installation directory itself. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (`st_mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in milliseconds since the epoch. */
  mtimeMs: number;
  /** Files only: bytes stored. */
  size?: number;
  /** Files only: SHA-256 of the bytes stored, lowercase hex. */
  sha256?: string;
  /** Symlinks: the link target exactly as stored (never resolved). Hardlinks: the path of the file it shares. */
  target?: string;
}

/** How the backup got a consistent picture of the installation. */
export interface Consistency {
  /** `offline`: nothing ran while the tree was read. `online`: the service ran; SQLite databases were copied with SQLite's online backup. */
  mode: 'offline' | 'online';
  /** One sentence for people. */
  how: string;
  /** The profile's service processes that were alive when the backup started. */
  runningPids: number[];
  /** True when uplift stopped the service for this backup (`--stop`). */
  stoppedByUplift: boolean;
  /** Databases copied through SQLite's online backup API (online mode only). */
  sqliteOnlineCopies: string[];
  /** Paths deliberately left out, and why. */
  excluded: { path: string; reason: string }[];
}

/** The first entry of every backup: what it is, before any content is read. */
export interface BackupInfo {
  format: BackupFormat;
  /** Random id; the restore journal and the manifest refer to it. */
  id: string;
  /** Absolute path of the installation when it was backed up. */
  installation: string;
  /** First line of `<install>/version`, or null when there is none. */
  productVersion: string | null;
  /** ISO 8601. */
  created: string;
  tool: { name: 'uplift'; version: string };
  consistency: Consistency;
  /** Counted by the walk before any content was read: exact offline, approximate online. Restore uses it for the space check and progress. */
  planned: BackupTotals;
  /**
   * Format `/2`: the links of the installation that the profile declares as data (`paths.data`)
   * and that lead outside it; what each points to is in the archive under `behind/<index>`.
   */
  behindLinks?: BehindLink[];
}

/** A data link of the installation whose target was backed up through. */
export interface BehindLink {
  /** The link, relative to the installation (a symlink entry of the tree). */
  path: string;
  /** The link text, as the tree entry records it. */
  target: string;
  /** Where it led when the backup was taken (all links resolved). */
  resolved: string;
  /** Counted by the walk of the target, like the header's `planned`. */
  planned: BackupTotals;
}

export interface BackupTotals {
  entries: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Bytes of file content. */
  bytes: number;
}

/** The last entry of every backup: the header's facts again, the exact totals, and every entry with its hash. */
export interface BackupManifest extends BackupInfo {
  /** The installation tree's totals (what is behind data links is counted in `behind`). */
  totals: BackupTotals;
  entries: ManifestEntry[];
  /**
   * Format `/2`: per entry of `behindLinks`, in the same order, what its target held; entry paths
   * are relative to the target (`.` is the target itself, a directory or a file).
   */
  behind?: { path: string; totals: BackupTotals; entries: ManifestEntry[] }[];
}

/** Reported while long work runs; `done` is set once, on the last report. */
export interface Progress {
  phase: 'backup' | 'verify' | 'restore';
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
  done: boolean;
}

export type ProgressListener = (p: Progress) => void;
