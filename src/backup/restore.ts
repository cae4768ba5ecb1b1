import {
  chmodSync,
  closeSync,
  constants,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { lstat, mkdir, realpath, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { backgroundFlusher, crashPoint, fsyncDir, syncTree } from './durable.ts';
import {
  type RestoreJournal,
  recoverInterruptedRestore,
  removeJournal,
  writeJournal,
} from './journal.ts';
import { type EntrySink, readBackup, readBackupInfo } from './read-archive.ts';
import type { ServiceControl } from './service.ts';
import { fileStamp } from './tool-version.ts';
import type { BackupManifest, Consistency, ProgressListener } from './types.ts';

export interface RestoreOptions {
  /** The backup archive. */
  backup: string;
  /** The installation directory to bring back (it may be missing). */
  install: string;
  /** The product's services (from its profile's lifecycle); needed for `stop` and `start`. */
  service?: ServiceControl;
  /** Stop the running service just before the swap; without it a running service is refused. */
  stop?: boolean;
  /** Start the restored installation's service. */
  start?: boolean;
  onProgress?: ProgressListener;
  now?: Date;
}

export interface RestoreResult {
  backup: string;
  install: string;
  id: string;
  productVersion: string | null;
  /** How the backup was taken. */
  consistency: Consistency;
  entries: number;
  bytes: number;
  /** False when not running as root: owners were left as the restoring user; `ownersNotRestored` counts the entries affected. */
  ownersRestored: boolean;
  ownersNotRestored: number;
  /** What was found from an earlier, interrupted restore and done about it. */
  recovered: 'none' | 'discarded-staging' | 'staged' | 'rolled-forward' | 'cleaned-up';
  /** True when the whole restore was finishing an interrupted one of the same backup. */
  finishedInterrupted: boolean;
  service: { stopped: boolean; started: boolean; pids: number[] };
  seconds: number;
}

/**
 * Restores an installation from a backup. The archive is extracted into a staging directory beside
 * the installation (same filesystem) while the service still runs, each entry hashed and the whole
 * checked against the manifest; only then is the service stopped (with `stop`) and the staging tree
 * swapped in by two renames under a journal (see journal.ts for the crash-safety invariant). Before
 * the swap nothing in the installation is touched; after it the installation is exactly the backed-up
 * tree: contents, modes, owners (as root), mtimes, symlinks, hardlinks, and nothing else.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const backup = resolve(opts.backup);
  const install = await resolveTarget(opts.install);
  const parent = dirname(install);
  const info = await readBackupInfo(backup);

  const recovery = await recoverInterruptedRestore(install, (j) => j.backupId === info.id);
  const result = (extra: Partial<RestoreResult>): RestoreResult => ({
    backup,
    install,
    id: info.id,
    productVersion: info.productVersion,
    consistency: info.consistency,
    entries: info.planned.entries,
    bytes: info.planned.bytes,
    ownersRestored: process.getuid?.() === 0,
    ownersNotRestored: 0,
    recovered: recovery.action,
    finishedInterrupted: false,
    service: { stopped: false, started: false, pids: [] },
    seconds: 0,
    ...extra,
  });
  if (
    (recovery.action === 'rolled-forward' || recovery.action === 'cleaned-up') &&
    recovery.journal.backupId === info.id
  ) {
    const pids = opts.start
      ? await needService(opts).start({ code: 'UPLIFT_RESTORE_START_FAILED', changed: true })
      : [];
    return result({
      finishedInterrupted: true,
      service: { stopped: false, started: opts.start === true, pids },
      seconds: elapsed(started),
    });
  }

  const hadInstall = await isDirectory(install);
  if (hadInstall) {
    const [a, b] = await Promise.all([stat(install), stat(parent)]);
    if (a.dev !== b.dev)
      throw new UpliftError(
        'UPLIFT_RESTORE_CROSS_DEVICE',
        `${install} is a mount point: restore swaps directories by rename, which cannot cross filesystems`,
        {
          hint: `Restore into a directory inside the mount (e.g. ${install}/product), or extract the backup by hand as docs/backup.md shows.`,
        },
      );
  }
  if (hadInstall) await refuseIfRunning(install, opts);

  let journal: RestoreJournal;
  let ownersNotRestored = 0;
  if (recovery.action === 'staged') {
    journal = recovery.journal;
  } else {
    await checkSpace(parent, info.planned.bytes);
    journal = {
      format: 'uplift-restore-journal/1',
      backupId: info.id,
      backup,
      install,
      staging: join(
        parent,
        `.${basename(install)}.uplift-staging-${fileStamp(now)}-${process.pid}`,
      ),
      old: null,
      state: 'staging',
      pid: process.pid,
      created: now.toISOString(),
    };
    await writeJournal(journal);
    try {
      await mkdir(journal.staging, { mode: 0o700 });
      const manifest = await extract(
        backup,
        journal.staging,
        await spaceBudget(parent),
        opts.onProgress,
      );
      ownersNotRestored = applyMetadata(journal.staging, manifest);
      syncTree(journal.staging);
      fsyncDir(parent);
    } catch (err) {
      await rm(journal.staging, { recursive: true, force: true });
      await removeJournal(install);
      throw err;
    }
    journal = {
      ...journal,
      state: 'staged',
      old: hadInstall ? `${install}.old-${fileStamp(now)}` : null,
    };
    await writeJournal(journal);
  }
  crashPoint('restore-before-swap');

  let stopped = false;
  const stillInstalled = await isDirectory(install);
  if (stillInstalled && ((await opts.service?.running()) ?? []).length > 0) {
    try {
      await refuseIfRunning(install, opts);
      await needService(opts).stop({ code: 'UPLIFT_RESTORE_STOP_FAILED' });
      stopped = true;
    } catch (err) {
      await rm(journal.staging, { recursive: true, force: true });
      await removeJournal(install);
      throw err;
    }
  }

  // The swap: see journal.ts for why every crash point in here is recoverable.
  if (stillInstalled) {
    const old = journal.old ?? `${install}.old-${fileStamp(now)}`;
    try {
      if (journal.old !== old) await writeJournal({ ...journal, old });
      await rename(install, old);
    } catch (err) {
      await rm(journal.staging, { recursive: true, force: true });
      await removeJournal(install);
      throw writeFailed(install, err, stopped);
    }
    journal = { ...journal, old };
  }
  crashPoint('restore-between-renames');
  try {
    await rename(journal.staging, install);
    fsyncDir(parent);
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_RESTORE_INCOMPLETE',
      `the restore of ${install} stopped halfway through the swap: ${(err as Error).message}`,
      {
        cause: err,
        hint: `Fix the cause, then run \`uplift restore ${backup} --install ${install}\` again to finish it.`,
        unchanged: false,
        state: `${install} is missing: the restored tree is at ${journal.staging}${journal.old ? `, the old one at ${journal.old}` : ''}`,
        next: `uplift restore ${backup} --install ${install}`,
      },
    );
  }
  crashPoint('restore-after-swap');

  let pids: number[] = [];
  let startError: unknown;
  if (opts.start) {
    try {
      pids = await needService(opts).start({ code: 'UPLIFT_RESTORE_START_FAILED', changed: true });
    } catch (err) {
      startError = err;
    }
  }
  if (journal.old) await rm(journal.old, { recursive: true, force: true });
  await removeJournal(install);
  if (startError) throw startError;
  return result({
    ownersNotRestored,
    recovered: recovery.action,
    service: { stopped, started: opts.start === true, pids },
    seconds: elapsed(started),
  });
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) / 10) / 100;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The real path of the installation (a symlink to it is followed once, here); its parent must exist. */
async function resolveTarget(install: string): Promise<string> {
  const abs = resolve(install);
  try {
    return await realpath(abs);
  } catch {
    // Missing: restore creates it.
  }
  try {
    return join(await realpath(dirname(abs)), basename(abs));
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_BACKUP_INSTALL_NOT_FOUND',
      `the directory ${dirname(abs)} that should hold ${abs} does not exist`,
      {
        cause: err,
        hint: 'Create the parent directory, or check the --install path.',
      },
    );
  }
}

async function refuseIfRunning(install: string, opts: RestoreOptions): Promise<void> {
  if (opts.stop) return;
  const running = (await opts.service?.running()) ?? [];
  if (running.length === 0) return;
  throw new UpliftError(
    'UPLIFT_RESTORE_SERVICE_RUNNING',
    `the service in ${install} is running (${running.map((p) => `pid ${p.pid} from ${p.label}`).join(', ')})`,
    {
      hint: "Pass --stop to stop it just before the swap (the profile's stop), or stop it yourself first.",
      unchanged: true,
    },
  );
}

function needService(opts: RestoreOptions): ServiceControl {
  if (opts.service) return opts.service;
  throw new UpliftError(
    'UPLIFT_USAGE',
    `cannot ${opts.start ? 'start' : 'stop'} the service of ${opts.install}: its profile declares no lifecycle`,
    {
      hint: 'Add lifecycle.services to the profile (docs/profiles.md), or start and stop the service yourself.',
    },
  );
}

/** Room for the staging tree plus a margin, checked before anything is written. */
async function checkSpace(parent: string, bytes: number): Promise<void> {
  const fs = await statfs(parent);
  const free = fs.bavail * fs.bsize;
  const need = bytes + Math.max(64 << 20, Math.ceil(bytes * 0.01));
  if (free < need)
    throw new UpliftError(
      'UPLIFT_RESTORE_NO_SPACE',
      `restoring needs about ${mib(need)} MiB beside the installation in ${parent}; ${mib(free)} MiB are free`,
      {
        hint: `Free at least ${mib(need - free)} MiB on that filesystem, then run the restore again.`,
        unchanged: true,
      },
    );
}

const mib = (n: number) => Math.ceil(n / (1 << 20));

/** Bytes the staging tree may take: the free space less a reserve, so a lying header cannot fill the disk the service needs. */
async function spaceBudget(parent: string): Promise<number> {
  const fs = await statfs(parent);
  return fs.bavail * fs.bsize - (32 << 20);
}

/**
 * Writes every tree entry into the staging directory as it streams past. The reader has already
 * placed each entry under a directory archived before it (read-archive.ts, checkPlacement), so
 * only directories this restore created are ever traversed; files are also opened with
 * O_EXCL|O_NOFOLLOW, so even a bug there could not make a write follow a symlink. Synchronous
 * writes on purpose: measured on ext4, writing small files in parallel on the thread pool doubled
 * the kernel time (directory and journal contention) and was slower than writing them in order.
 */
async function extract(
  backup: string,
  staging: string,
  budget: number,
  onProgress?: ProgressListener,
): Promise<BackupManifest> {
  const createFlags =
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let written = 0;
  const flusher = backgroundFlusher(staging);
  const { manifest } = await readBackup(
    backup,
    {
      onEntry(e): EntrySink | undefined {
        if (e.path === '.') return undefined;
        const abs = join(staging, e.path);
        let fd = -1;
        try {
          if (e.type === 'directory') mkdirSync(abs, { mode: 0o700 });
          else if (e.type === 'symlink') symlinkSync(e.target as string, abs);
          else if (e.type === 'hardlink') linkSync(join(staging, e.target as string), abs);
          else fd = openSync(abs, createFlags, 0o600);
        } catch (err) {
          throw writeFailed(abs, err);
        }
        if (fd < 0) return undefined;
        const close = () => {
          if (fd >= 0) closeSync(fd);
          fd = -1;
        };
        return {
          write(chunk) {
            written += chunk.length;
            if (written > budget) {
              close();
              throw new UpliftError(
                'UPLIFT_RESTORE_NO_SPACE',
                `${backup} holds more than the ${mib(budget)} MiB free beside the installation`,
                {
                  hint: 'Free space on that filesystem, then run the restore again.',
                  // restoreBackup removes the staging tree before this reaches the operator.
                  unchanged: true,
                },
              );
            }
            try {
              let off = 0;
              while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
              flusher.wrote(chunk.length);
            } catch (err) {
              close();
              throw writeFailed(abs, err);
            }
          },
          end: close,
          abort: close,
        };
      },
    },
    onProgress,
    'restore',
  ).finally(() => flusher.stop());
  return manifest;
}

/**
 * Sets owners, modes and mtimes from the manifest, children before parents. Owner first: chown
 * clears setuid/setgid bits, so the mode must come after it. Symlinks get owner and time without
 * following them (lchown, lutimes); Linux ignores their mode. Returns how many entries keep the
 * restoring user as owner because only root may give files away.
 */
function applyMetadata(staging: string, manifest: BackupManifest): number {
  const root = process.getuid?.() === 0;
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  let notRestored = 0;
  for (let i = manifest.entries.length - 1; i >= 0; i--) {
    const e = manifest.entries[i];
    if (!e) continue;
    const abs = e.path === '.' ? staging : join(staging, e.path);
    try {
      if (root) lchownSync(abs, e.uid, e.gid);
      else if (e.uid !== uid || e.gid !== gid) notRestored++;
      if (e.type !== 'symlink') chmodSync(abs, e.mode);
      const t = new Date(e.mtimeMs);
      lutimesSync(abs, t, t);
    } catch (err) {
      throw writeFailed(abs, err);
    }
  }
  return notRestored;
}

/**
 * A write before the swap failed; restoreBackup removes the staging tree before this reaches the
 * operator, so only a service it stopped is left changed.
 */
function writeFailed(path: string, err: unknown, serviceStopped = false): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  return new UpliftError(
    'UPLIFT_BACKUP_WRITE_FAILED',
    `could not write ${path} while restoring: ${e.message}`,
    {
      cause: err,
      unchanged: !serviceStopped,
      state: serviceStopped
        ? 'the installation is as it was, but its service is stopped'
        : undefined,
      hint:
        e.code === 'ENOSPC' || e.code === 'EDQUOT'
          ? 'Free space beside the installation, then run the restore again.'
          : e.code === 'EFBIG'
            ? 'A file is larger than the file size limit of this process (ulimit -f); raise it, then run the restore again.'
            : 'Check permissions and the disk beside the installation, then run the restore again.',
    },
  );
}
