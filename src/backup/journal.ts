import { lstat, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ExitCode, shellWord, UpliftError } from '../errors/index.ts';
import { isAlive } from '../util/index.ts';
import { crashPoint, fsyncDir, removeStaleTemps, writeFileDurably } from './durable.ts';
import type { BackupTotals } from './types.ts';

/**
 * The restore journal: one small JSON file beside the installation, `.<name>.uplift-restore.json`.
 *
 * Crash-safety invariant (this is its single home): the installation path names a complete tree at
 * every instant except between the two renames of the swap. Before the first rename it is the old
 * tree; after the second it is the staging tree, which was fully written, checked against the
 * manifest and flushed (`sync -f`) before the journal said `staged`. The journal is written
 * durably (temp + fsync + rename + directory fsync) before the staging directory is created and
 * again, naming where the old tree goes, before the first rename. So after a crash at any point the
 * journal plus what exists on disk tell exactly what to do: a `staging` journal means the staging
 * tree is unverified (delete it, the installation was never touched); a `staged` journal with the
 * installation missing means the crash fell between the renames (finish the swap); a `staged`
 * journal with the staging tree gone means the swap finished (delete the old tree).
 *
 * What is behind a data link (`behind`) follows the same rule one target at a time, after the
 * installation's swap: its staging copy sits beside the target (same filesystem), is flushed
 * before `staged`, and is swapped in by renaming the target to `old` and the copy to the target.
 * Each target is swapped only once the installation has been, so "the installation's staging tree
 * is gone" also tells that every remaining target swap is to be finished, never undone.
 */
export interface RestoreJournal {
  format: 'uplift-restore-journal/1';
  /** The backup being restored (its header id) and its file. */
  backupId: string;
  backup: string;
  install: string;
  staging: string;
  /** Where the current installation is moved during the swap; null when there was none. */
  old: string | null;
  state: 'staging' | 'staged';
  /** What the staged copy holds (the backup manifest's totals), once staged. */
  totals?: BackupTotals;
  /** The data links' targets this restore writes (see above); absent when there are none. */
  behind?: BehindSwap[];
  /** The process running the restore, to tell a crashed restore from one still running. */
  pid: number;
  created: string;
}

/** One data link's target restored by swapping in a copy written beside it. */
export interface BehindSwap {
  /** The link, relative to the installation. */
  path: string;
  /** The target's real path; what is there now is moved to `old`, and `staging` takes its place. */
  target: string;
  staging: string;
  old: string;
}

export function journalPath(install: string): string {
  return join(dirname(install), `.${basename(install)}.uplift-restore.json`);
}

export async function readJournal(install: string): Promise<RestoreJournal | undefined> {
  let text: string;
  try {
    text = await readFile(journalPath(install), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const j = JSON.parse(text) as RestoreJournal;
    if (j.format === 'uplift-restore-journal/1' && j.install === install) return j;
  } catch {
    // Reported below.
  }
  throw new UpliftError(
    'UPLIFT_RESTORE_INCOMPLETE',
    `the restore journal ${journalPath(install)} is unreadable`,
    {
      hint: `Check ${install} and the directories beside it named like .${basename(install)}.uplift-staging-* and ${basename(install)}.old-*, keep the complete one as ${install}, then delete the journal.`,
      unchanged: true,
      state: `a restore of ${install} was interrupted, and its journal cannot say how far it got`,
    },
  );
}

export async function writeJournal(j: RestoreJournal): Promise<void> {
  await writeFileDurably(journalPath(j.install), `${JSON.stringify(j, null, 2)}\n`);
}

export async function removeJournal(install: string): Promise<void> {
  await rm(journalPath(install), { force: true });
  await removeStaleTemps(journalPath(install));
  fsyncDir(dirname(install));
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** lstat: the target of a data link may itself be a file, a folder or gone. */
async function present(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Removes the staging copies of data links' targets that were never swapped in. */
export async function discardBehind(j: RestoreJournal): Promise<void> {
  for (const b of j.behind ?? []) await rm(b.staging, { recursive: true, force: true });
}

/**
 * Swaps each data link's target for its staging copy (a copy already swapped is skipped, so a
 * crash anywhere in here is finished by calling it again), then, with `removeOld`, deletes what
 * was there before.
 */
export async function swapBehind(j: RestoreJournal, removeOld: boolean): Promise<void> {
  for (const b of j.behind ?? []) {
    if (await present(b.staging)) {
      if ((await present(b.target)) && !(await present(b.old))) await rename(b.target, b.old);
      crashPoint('restore-behind-between-renames');
      await rename(b.staging, b.target);
      fsyncDir(dirname(b.target));
    }
    if (removeOld) await rm(b.old, { recursive: true, force: true });
  }
}

/** Refuses when another live process is restoring this installation right now. */
function refuseIfRunning(j: RestoreJournal): void {
  if (j.pid !== process.pid && isAlive(j.pid))
    throw new UpliftError(
      'UPLIFT_RESTORE_INCOMPLETE',
      `a restore of ${j.install} is running now (pid ${j.pid})`,
      {
        hint: 'Wait for it to finish, then run the command again.',
        exitCode: ExitCode.locked,
      },
    );
}

/** Used by every command that reads or changes an installation: a half-swapped one must be finished first. */
export async function refuseIfRestoreInterrupted(install: string): Promise<void> {
  const j = await readJournal(install);
  if (!j) return;
  refuseIfRunning(j);
  throw new UpliftError(
    'UPLIFT_RESTORE_INCOMPLETE',
    `a restore of ${install} from ${j.backup} was interrupted`,
    {
      hint: `Finish it:\nuplift restore ${shellWord(j.backup)} --install ${shellWord(install)}`,
      state: `a restore from ${j.backup} was interrupted (${j.state}); ${journalPath(install)} records how far it got`,
      next: `uplift restore ${shellWord(j.backup)} --install ${shellWord(install)}`,
    },
  );
}

export type Recovery =
  | { action: 'none' }
  /** The staging tree was never verified (or the caller wants another backup): deleted; the installation was not touched. */
  | { action: 'discarded-staging'; journal: RestoreJournal }
  /** A verified staging tree is ready and the installation is the old one: the caller may swap it in. */
  | { action: 'staged'; journal: RestoreJournal }
  /** The swap was finished (the staging tree renamed into place) and the old tree removed. */
  | { action: 'rolled-forward'; journal: RestoreJournal }
  /** The swap had finished; only the old tree and the journal were left to remove. */
  | { action: 'cleaned-up'; journal: RestoreJournal };

/**
 * Brings an installation left by an interrupted restore back to one complete tree, following the
 * journal (see the invariant above). `keepStaged` says whether a verified, not yet swapped staging
 * tree is still wanted (the same backup is being restored again).
 */
export async function recoverInterruptedRestore(
  install: string,
  keepStaged: (j: RestoreJournal) => boolean,
): Promise<Recovery> {
  const j = await readJournal(install);
  if (!j) return { action: 'none' };
  refuseIfRunning(j);
  const hasInstall = await exists(install);
  const hasStaging = await exists(j.staging);
  if (j.state === 'staging' || (hasInstall && hasStaging && !keepStaged(j))) {
    await rm(j.staging, { recursive: true, force: true });
    await discardBehind(j);
    await removeJournal(install);
    return { action: 'discarded-staging', journal: j };
  }
  if (hasInstall && hasStaging) return { action: 'staged', journal: j };
  if (!hasInstall && hasStaging) {
    await rename(j.staging, install);
    fsyncDir(dirname(install));
    await swapBehind(j, true);
    if (j.old) await rm(j.old, { recursive: true, force: true });
    await removeJournal(install);
    return { action: 'rolled-forward', journal: j };
  }
  if (!hasInstall && j.old && (await exists(j.old))) {
    // Unreachable by the swap's own order (staging is renamed away only after the old tree moved);
    // reached if someone deleted the staging tree by hand: put the old tree back.
    await rename(j.old, install);
    fsyncDir(dirname(install));
    await discardBehind(j);
    await removeJournal(install);
    return { action: 'discarded-staging', journal: j };
  }
  await swapBehind(j, true);
  if (j.old) await rm(j.old, { recursive: true, force: true });
  await removeJournal(install);
  return { action: 'cleaned-up', journal: j };
}
