import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shellWord, UpliftError } from '../errors/index.ts';
import {
  type AcquiredLock,
  acquireProcessLock,
  fsyncDir,
  isAlive,
  type ProcessLock,
  readProcessLock,
  releaseProcessLock,
} from '../util/index.ts';
import type { StatePaths } from './paths.ts';

export { staleReason } from '../util/index.ts';

/**
 * The lock of one installation, `<state>/lock` (src/util/process-lock.ts): who holds it, on which
 * boot, since when. The same format `uplift check` (one-upgrade-at-a-time) reads.
 */
export type UpgradeLock = ProcessLock;
export interface Acquired extends AcquiredLock {
  /** Temporary files of killed commands this acquisition removed (relative to the state folder). */
  swept: string[];
}

export function readLock(p: StatePaths): Promise<UpgradeLock | undefined> {
  return readProcessLock(p.lock);
}

/**
 * Takes the installation's lock, or throws UPLIFT_APPLY_LOCKED (exit 4) while a live process of
 * this boot holds it. A stale lock (dead pid, other boot, reused pid) is moved aside as
 * `lock.stale-<time>` and replaced; the caller records the recovery (the stale lock's content)
 * in the journal, and the moved-aside file goes with the other debris ({@link sweepDebris}).
 */
export async function acquireLock(
  p: StatePaths,
  command: string,
  runId?: string,
): Promise<Acquired> {
  const acquired = await acquireProcessLock(p.lock, {
    command,
    ...(runId ? { runId } : {}),
    locked: (held) =>
      new UpliftError(
        'UPLIFT_APPLY_LOCKED',
        `another uplift ${held.command ?? 'run'} holds ${p.lock}: pid ${held.pid} since ${held.startedAt}`,
        {
          hint: `Wait for pid ${held.pid} to finish; never remove the lock while it runs. Where it stands:\nuplift status --install ${shellWord(p.install)}`,
          unchanged: true,
        },
      ),
    busy: () =>
      new UpliftError('UPLIFT_APPLY_LOCKED', `cannot take the lock ${p.lock}`, {
        hint: 'Another uplift is taking and releasing the lock; try again.',
        unchanged: true,
      }),
  });
  return { ...acquired, swept: await sweepDebris(p) };
}

/** A backup apply writes: `<runId>-<hop>[-installer].tar.gz` (src/apply/paths.ts). */
const backupName = /^\d{8}T\d{6}Z-[0-9a-f]+-\d+(?:-installer)?\.tar\.gz$/;

/**
 * What a killed command leaves in the state folder and a finished one never does, removed by the
 * next command that takes the lock (only the lock's holder writes there, so nothing of it is in
 * use): a lock's temp file whose process is gone (`lock.tmp-<pid>`), the stale lock just moved
 * aside (`lock.stale-*`; the caller journals its content), a backup's temp archive
 * (`backups/.<name>.tmp-<pid>`), the backup's scratch copies of databases
 * (`backups/.uplift-backup-sqlite-*`), and an archive without its checksum (the kill came between
 * the two, so it was never verified), and the staging folder of a dry run or of apply's check of
 * every hop whose process is gone (`dry-run-<pid>-*`). A clean run leaves none of them; staging and a journaled
 * step's own files are the journal's business (uplift resume).
 */
async function sweepDebris(p: StatePaths): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(p.dir).catch(() => [] as string[])) {
    const m = /^(?:lock\.tmp-|dry-run-)(\d+)(?:-|$)/.exec(name);
    // A stale lock moved aside: its content is in the result (`recovered.lock`), journaled.
    if (
      name.startsWith('lock.stale-') ||
      (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1])))
    ) {
      await rm(join(p.dir, name), { recursive: true, force: true });
      swept.push(name);
    }
  }
  const names = await readdir(p.backups).catch(() => [] as string[]);
  for (const name of names) {
    const debris =
      /^\..*\.tmp-\d+$/.test(name) ||
      name.startsWith('.uplift-backup-sqlite-') ||
      (backupName.test(name) && !existsSync(join(p.backups, `${name}.sha256`)));
    if (!debris) continue;
    await rm(join(p.backups, name), { recursive: true, force: true });
    swept.push(join('backups', name));
  }
  if (swept.length > 0) {
    fsyncDir(p.dir);
    if (swept.some((s) => s.startsWith('backups'))) fsyncDir(p.backups);
  }
  return swept;
}

/** Releases the lock if this process holds it. */
export function releaseLock(p: StatePaths): Promise<void> {
  return releaseProcessLock(p.lock);
}
