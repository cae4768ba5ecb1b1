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
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { shellWord, UpliftError, unwritablePathError } from '../errors/index.ts';
import { matchesAnyGlob } from '../util/index.ts';
import { backgroundFlusher, crashPoint, fsyncDir, syncTree } from './durable.ts';
import {
  type BehindSwap,
  discardBehind,
  type RestoreJournal,
  recoverInterruptedRestore,
  removeJournal,
  swapBehind,
  writeJournal,
} from './journal.ts';
import { type EntrySink, readBackup, readBackupInfo } from './read-archive.ts';
import type { ServiceControl } from './service.ts';
import { fileStamp } from './tool-version.ts';
import type {
  BackupInfo,
  BackupManifest,
  BackupTotals,
  Consistency,
  ProgressListener,
} from './types.ts';
import { isInside } from './walk.ts';

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
  /**
   * Globs of the customer's data (the profile's `paths.data`). What the backup holds behind a data
   * link is written back into the link's target only when the link matches them: restore writes
   * outside the installation only where the profile says the customer's data lives.
   */
  data?: readonly string[];
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
  /** What the installation was restored with: the backup manifest's totals, the same count `backup --verify` gives. */
  totals: BackupTotals;
  /** The same as `totals.entries` and `totals.bytes`. */
  entries: number;
  bytes: number;
  /** False when not running as root: owners were left as the restoring user; `ownersNotRestored` counts the entries affected. */
  ownersRestored: boolean;
  ownersNotRestored: number;
  /** The backup's data links: whether what was behind each was written back into its target, and if not, why. */
  behind: { path: string; target: string; restored: boolean; reason?: string }[];
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
 * tree: contents, modes, owners (as root), mtimes, symlinks, hardlinks, and nothing else. What the
 * backup holds behind a data link goes back into the link's target the same way (a staging copy
 * beside it, swapped in after the installation), only where `data` declares the link.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const backup = resolve(opts.backup);
  const install = await resolveTarget(opts.install);
  const parent = dirname(install);
  const info = await readBackupInfo(backup);
  await refuseBadTarget(backup, install);

  const recovery = await recoverInterruptedRestore(install, (j) => j.backupId === info.id);
  // A restore of this backup that was interrupted decided where its data link targets go.
  const plannedBehind =
    recovery.action !== 'none' &&
    recovery.action !== 'discarded-staging' &&
    recovery.journal.backupId === info.id
      ? journalBehind(info, recovery.journal)
      : await planBehind(info, install, opts.data ?? [], now);
  // What the archive holds: known once staged (from its manifest, kept in the journal); before
  // that, what the backup listed when it began.
  let totals: BackupTotals =
    recovery.action !== 'none' && recovery.journal.backupId === info.id
      ? (recovery.journal.totals ?? info.planned)
      : info.planned;
  const result = (extra: Partial<RestoreResult>): RestoreResult => ({
    backup,
    install,
    id: info.id,
    productVersion: info.productVersion,
    consistency: info.consistency,
    totals,
    entries: totals.entries,
    bytes: totals.bytes,
    ownersRestored: process.getuid?.() === 0,
    ownersNotRestored: 0,
    behind: plannedBehind.map(({ swap: _, ...b }) => b),
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
  const swaps = plannedBehind.flatMap((b) => (b.swap ? [b.swap] : []));
  const realBackup = await realpath(backup);
  for (const s of swaps)
    if (isInside(realBackup, s.target))
      throw new UpliftError(
        'UPLIFT_BACKUP_OUT_INSIDE_INSTALL',
        `the backup file ${backup} is inside ${s.target}, which restore replaces with what the backup holds there`,
        {
          hint: `Move the backup elsewhere first (e.g. mv ${shellWord(backup)} /var/backups/), then restore from there.`,
        },
      );
  if (recovery.action === 'staged') {
    journal = recovery.journal;
  } else {
    await checkSpace(parent, info.planned.bytes);
    for (const [i, l] of (info.behindLinks ?? []).entries()) {
      const swap = plannedBehind[i]?.swap;
      if (swap) await checkSpace(dirname(swap.target), l.planned.bytes);
    }
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
      ...(swaps.length > 0 ? { behind: swaps } : {}),
    };
    await writeJournal(journal).catch((err: unknown) => {
      throw unwritablePathError(err, install, '--install') ?? err;
    });
    const behindStaging = plannedBehind.map((b) => b.swap?.staging);
    try {
      await mkdir(journal.staging, { mode: 0o700 });
      const manifest = await extract(
        backup,
        journal.staging,
        await Promise.all(
          behindStaging.map(async (dir) =>
            dir ? { dir, budget: await spaceBudget(dirname(dir)) } : undefined,
          ),
        ),
        await spaceBudget(parent),
        opts.onProgress,
      );
      totals = manifest.totals;
      ownersNotRestored = applyMetadata(journal.staging, manifest.entries);
      syncTree(journal.staging);
      fsyncDir(parent);
      for (const [i, b] of (manifest.behind ?? []).entries()) {
        const staging = behindStaging[i];
        if (!staging) continue;
        ownersNotRestored += applyMetadata(staging, b.entries);
        syncTree(staging);
        fsyncDir(dirname(staging));
      }
    } catch (err) {
      await discardStaging(journal);
      throw err;
    }
    journal = {
      ...journal,
      state: 'staged',
      totals,
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
      await discardStaging(journal);
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
      await discardStaging(journal);
      throw writeFailed(install, err, stopped);
    }
    journal = { ...journal, old };
  }
  crashPoint('restore-between-renames');
  try {
    await rename(journal.staging, install);
    fsyncDir(parent);
    crashPoint('restore-before-behind-swap');
    await swapBehind(journal, false);
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_RESTORE_INCOMPLETE',
      `the restore of ${install} stopped halfway through the swap: ${(err as Error).message}`,
      {
        cause: err,
        hint: `Fix the cause, then run the restore again to finish it:\nuplift restore ${shellWord(backup)} --install ${shellWord(install)}`,
        unchanged: false,
        state: `${install} is missing: the restored tree is at ${journal.staging}${journal.old ? `, the old one at ${journal.old}` : ''}`,
        next: `uplift restore ${shellWord(backup)} --install ${shellWord(install)}`,
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
  for (const b of journal.behind ?? []) await rm(b.old, { recursive: true, force: true });
  await removeJournal(install);
  if (startError) throw startError;
  return result({
    ownersNotRestored,
    recovered: recovery.action,
    service: { stopped, started: opts.start === true, pids },
    seconds: elapsed(started),
  });
}

/** Before the swap: nothing of the installation or of a data link's target has been touched. */
async function discardStaging(journal: RestoreJournal): Promise<void> {
  await rm(journal.staging, { recursive: true, force: true });
  await discardBehind(journal);
  await removeJournal(journal.install);
}

type PlannedBehind = RestoreResult['behind'][number] & { swap?: BehindSwap };

/** The data links of an interrupted restore, as its journal recorded them. */
function journalBehind(info: BackupInfo, j: RestoreJournal): PlannedBehind[] {
  return (info.behindLinks ?? []).map((l) => {
    const swap = j.behind?.find((b) => b.path === l.path);
    return swap
      ? { path: l.path, target: swap.target, restored: true, swap }
      : {
          path: l.path,
          target: l.target,
          restored: false,
          reason: 'left alone by the interrupted restore',
        };
  });
}

/**
 * Where what is behind each data link of the backup goes: the link's target as the restored link
 * will resolve it (its real path when it exists). Only links the caller's `data` globs declare;
 * never a target inside the installation (the tree holds it) or one that holds it; never a mount
 * point (the swap is a rename within one filesystem).
 */
async function planBehind(
  info: BackupInfo,
  install: string,
  data: readonly string[],
  now: Date,
): Promise<PlannedBehind[]> {
  const planned: PlannedBehind[] = [];
  for (const l of info.behindLinks ?? []) {
    const skip = (reason: string) =>
      planned.push({ path: l.path, target: l.target, restored: false, reason });
    if (!matchesAnyGlob(data, l.path)) {
      skip('the profile does not declare it as data (paths.data): its target was left alone');
      continue;
    }
    const lexical = isAbsolute(l.target)
      ? resolve(l.target)
      : resolve(install, dirname(l.path), l.target);
    let target: string;
    try {
      target = await realpath(lexical);
    } catch {
      try {
        target = join(await realpath(dirname(lexical)), basename(lexical));
      } catch (err) {
        throw new UpliftError(
          'UPLIFT_BACKUP_INSTALL_NOT_FOUND',
          `the folder ${dirname(lexical)} that should hold ${lexical}, the target of the data link ${l.path}, does not exist`,
          {
            cause: err,
            hint: `Create ${dirname(lexical)} (mount the disk the link points to), then run the restore again.`,
            unchanged: true,
          },
        );
      }
    }
    if (isInside(target, install) || isInside(install, target)) {
      skip(
        `its target ${target} is ${isInside(target, install) ? 'inside' : 'above'} the installation`,
      );
      continue;
    }
    if (await isMountPoint(target))
      throw new UpliftError(
        'UPLIFT_RESTORE_CROSS_DEVICE',
        `${target}, the target of the data link ${l.path}, is a mount point: restore swaps it by rename, which cannot cross filesystems`,
        {
          hint: `Point the link at a folder inside the mount (e.g. ${target}/data), or copy the backup's behind/ entries back by hand as docs/backup.md shows.`,
          unchanged: true,
        },
      );
    const stamp = `${fileStamp(now)}-${process.pid}`;
    const dir = dirname(target);
    const name = basename(target);
    planned.push({
      path: l.path,
      target,
      restored: true,
      swap: {
        path: l.path,
        target,
        staging: join(dir, `.${name}.uplift-staging-${stamp}`),
        old: join(dir, `.${name}.uplift-old-${stamp}`),
      },
    });
  }
  return planned;
}

async function isMountPoint(p: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([lstat(p), stat(dirname(p))]);
    return a.isDirectory() && a.dev !== b.dev;
  } catch {
    return false;
  }
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

/**
 * Refused before anything is written: an installation path that holds something other than a
 * folder (restore would stage beside it and then fail its swap on every run), and a backup file
 * inside the installation (the swap would delete the very backup being restored).
 */
async function refuseBadTarget(backup: string, install: string): Promise<void> {
  const st = await stat(install).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new UpliftError('UPLIFT_BACKUP_INSTALL_NOT_FOUND', `${install} is not a directory`, {
      hint: 'Pass the installation directory with --install (restore creates it when it is missing).',
      location: { file: install },
    });
  if (isInside(await realpath(backup), install))
    throw new UpliftError(
      'UPLIFT_BACKUP_OUT_INSIDE_INSTALL',
      `the backup file ${backup} is inside the installation ${install}, which restore replaces (it would delete the backup)`,
      {
        hint: `Move the backup outside the installation first (e.g. mv ${shellWord(backup)} /var/backups/), then restore from there.`,
        location: { file: backup },
      },
    );
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
  behindStaging: readonly ({ dir: string; budget: number } | undefined)[],
  budget: number,
  onProgress?: ProgressListener,
): Promise<BackupManifest> {
  const createFlags =
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  // Bytes written per filesystem: the installation's, and each data link target's.
  const written = new Map<string, number>();
  const flusher = backgroundFlusher(staging);
  const { manifest } = await readBackup(
    backup,
    {
      onEntry(e): EntrySink | undefined {
        // What is behind a data link goes to its own staging copy beside the target, or nowhere
        // when the caller does not declare the link as data (the reader still checks it).
        const to = e.behind === undefined ? { dir: staging, budget } : behindStaging[e.behind];
        if (to === undefined || (e.path === '.' && e.behind === undefined)) return undefined;
        const root = to.dir;
        const abs = e.path === '.' ? root : join(root, e.path);
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
            const n = (written.get(root) ?? 0) + chunk.length;
            written.set(root, n);
            if (n > to.budget) {
              close();
              throw new UpliftError(
                'UPLIFT_RESTORE_NO_SPACE',
                `${backup} holds more than the ${mib(to.budget)} MiB free beside ${e.behind === undefined ? 'the installation' : dirname(root)}`,
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
function applyMetadata(staging: string, entries: BackupManifest['entries']): number {
  const root = process.getuid?.() === 0;
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  let notRestored = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
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
