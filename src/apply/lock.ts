import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAlive } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import { fsyncDir } from '../util/index.ts';
import type { StatePaths } from './paths.ts';

/**
 * The lock of one installation, `<state>/lock`: who holds it, on which boot, since when. The same
 * format `uplift check` (one-upgrade-at-a-time) reads. It is created whole or not at all (written
 * to a temp file, then hard-linked to its name, which fails when the name exists).
 */
export interface UpgradeLock {
  pid: number;
  /** The kernel boot id when the lock was taken: a pid from an earlier boot is no proof of life. */
  bootId?: string;
  startedAt: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22): a reused pid differs. */
  processStart?: number;
  /** What holds it: `apply`, `resume` or `rollback`, and the run. */
  command?: string;
  runId?: string;
}

export function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Why a lock no longer protects anything, or undefined when its holder still runs. */
export function staleReason(lock: UpgradeLock): string | undefined {
  const boot = readBootId();
  if (lock.bootId !== undefined && boot !== undefined && lock.bootId !== boot)
    return 'the machine has rebooted since';
  if (!isAlive(lock.pid)) return `pid ${lock.pid} is gone`;
  if (lock.processStart !== undefined) {
    const now = processStart(lock.pid);
    if (now !== undefined && now !== lock.processStart)
      return `pid ${lock.pid} is now another process`;
  }
  return undefined;
}

export function parseLock(text: string): UpgradeLock | undefined {
  try {
    const v = JSON.parse(text) as Partial<UpgradeLock> | null;
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.pid) || (v.pid as number) <= 0)
      return undefined;
    return v as UpgradeLock;
  } catch {
    return undefined;
  }
}

export async function readLock(p: StatePaths): Promise<UpgradeLock | undefined> {
  try {
    return parseLock(await readFile(p.lock, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface Acquired {
  lock: UpgradeLock;
  /** A stale lock this acquisition replaced, and why it was stale. */
  recovered?: { lock: UpgradeLock | undefined; reason: string; keptAs: string };
}

/**
 * Takes the installation's lock, or throws UPLIFT_APPLY_LOCKED (exit 4) while a live process of
 * this boot holds it. A stale lock (dead pid, other boot, reused pid) is moved aside as
 * `lock.stale-<time>` and replaced; the caller records the recovery in the journal.
 */
export async function acquireLock(
  p: StatePaths,
  command: string,
  runId?: string,
): Promise<Acquired> {
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const lock: UpgradeLock = {
    pid: process.pid,
    bootId: readBootId(),
    startedAt: new Date().toISOString(),
    processStart: processStart(process.pid),
    command,
    ...(runId ? { runId } : {}),
  };
  const tmp = `${p.lock}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(lock)}\n`, { mode: 0o600 });
  let recovered: Acquired['recovered'];
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(tmp, p.lock);
        fsyncDir(p.dir);
        return { lock, ...(recovered ? { recovered } : {}) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text: string;
      try {
        text = await readFile(p.lock, 'utf8');
      } catch {
        continue; // Released meanwhile: try again.
      }
      const held = parseLock(text);
      const reason = held ? staleReason(held) : 'it cannot be read';
      if (held && reason === undefined) throw lockedError(p, held);
      // Move exactly this stale lock aside, then make sure it was the one judged (not a new one).
      const keptAs = `${p.lock}.stale-${Date.now()}-${process.pid}`;
      try {
        await rename(p.lock, keptAs);
      } catch {
        continue;
      }
      if ((await readFile(keptAs, 'utf8')) !== text) {
        // Another process took the lock between the read and the rename: give it back.
        await link(keptAs, p.lock).catch(() => undefined);
        await rm(keptAs, { force: true });
        const now = parseLock(text);
        throw lockedError(p, now ?? held ?? lock);
      }
      fsyncDir(p.dir);
      recovered = { lock: held, reason: reason ?? 'stale', keptAs };
    }
    throw new UpliftError('UPLIFT_APPLY_LOCKED', `cannot take the lock ${p.lock}`, {
      hint: 'Another uplift is taking and releasing the lock; try again.',
      unchanged: true,
    });
  } finally {
    await rm(tmp, { force: true });
  }
}

function lockedError(p: StatePaths, held: UpgradeLock): UpliftError {
  return new UpliftError(
    'UPLIFT_APPLY_LOCKED',
    `another uplift ${held.command ?? 'run'} holds ${p.lock}: pid ${held.pid} since ${held.startedAt}`,
    {
      hint: `Wait for pid ${held.pid} to finish (uplift status --install ${p.install} shows where it stands); never remove the lock while it runs.`,
      unchanged: true,
    },
  );
}

/** Releases the lock if this process holds it. */
export async function releaseLock(p: StatePaths): Promise<void> {
  const held = await readLock(p).catch(() => undefined);
  if (held && held.pid !== process.pid) return;
  await rm(p.lock, { force: true });
  fsyncDir(p.dir);
}
