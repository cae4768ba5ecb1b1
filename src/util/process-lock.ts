import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './durable.ts';
import { isAlive, processStart, readBootId } from './process.ts';

/**
 * A lock file held by one process: who holds it, on which boot, since when. Created whole or not at
 * all (written to a temp file, then hard-linked to its name, which fails when the name exists).
 * apply's installation lock (`<state>/lock`, which `uplift check` reads too) and fetch's lock of its
 * download folder are both this.
 */
export interface ProcessLock {
  pid: number;
  /** The kernel boot id when the lock was taken: a pid from an earlier boot is no proof of life. */
  bootId?: string;
  startedAt: string;
  /** The holder's start time in clock ticks since boot: a reused pid differs. */
  processStart?: number;
  /** What holds it (`apply`, `resume`, `rollback`, `fetch`), and the run. */
  command?: string;
  runId?: string;
}

/** Why a lock no longer protects anything, or undefined when its holder still runs. */
export function staleReason(lock: ProcessLock): string | undefined {
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

export function parseLock(text: string): ProcessLock | undefined {
  try {
    const v = JSON.parse(text) as Partial<ProcessLock> | null;
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.pid) || (v.pid as number) <= 0)
      return undefined;
    return v as ProcessLock;
  } catch {
    return undefined;
  }
}

/** The lock in `file`, undefined when there is none (or it is not a lock). */
export async function readProcessLock(file: string): Promise<ProcessLock | undefined> {
  try {
    return parseLock(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface AcquiredLock {
  lock: ProcessLock;
  /** A stale lock this acquisition replaced, and why it was stale. */
  recovered?: { lock: ProcessLock | undefined; reason: string; keptAs: string };
}

export interface AcquireOptions {
  command: string;
  runId?: string;
  /** The error to throw while a live process of this boot holds the lock. */
  locked: (held: ProcessLock) => Error;
  /** The error to throw when other processes keep taking and releasing the lock. */
  busy: () => Error;
}

/**
 * Takes the lock `file` (its folder is created, 0700), or throws `o.locked(held)` while a live
 * process of this boot holds it. A stale lock (dead pid, other boot, reused pid) is moved aside as
 * `<file>.stale-<time>-<pid>` and replaced; the result says so, for the caller to record.
 */
export async function acquireProcessLock(file: string, o: AcquireOptions): Promise<AcquiredLock> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lock: ProcessLock = {
    pid: process.pid,
    bootId: readBootId(),
    startedAt: new Date().toISOString(),
    processStart: processStart(process.pid),
    command: o.command,
    ...(o.runId ? { runId: o.runId } : {}),
  };
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(lock)}\n`, { mode: 0o600 });
  let recovered: AcquiredLock['recovered'];
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(tmp, file);
        fsyncDir(dir);
        return { lock, ...(recovered ? { recovered } : {}) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue; // Released meanwhile: try again.
      }
      const held = parseLock(text);
      const reason = held ? staleReason(held) : 'it cannot be read';
      if (held && reason === undefined) throw o.locked(held);
      // Move exactly this stale lock aside, then make sure it was the one judged (not a new one).
      const keptAs = `${file}.stale-${Date.now()}-${process.pid}`;
      try {
        await rename(file, keptAs);
      } catch {
        continue;
      }
      if ((await readFile(keptAs, 'utf8')) !== text) {
        // Another process took the lock between the read and the rename: give it back.
        await link(keptAs, file).catch(() => undefined);
        await rm(keptAs, { force: true });
        throw o.locked(parseLock(text) ?? held ?? lock);
      }
      fsyncDir(dir);
      recovered = { lock: held, reason: reason ?? 'stale', keptAs };
    }
    throw o.busy();
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Releases the lock `file` if this process holds it. */
export async function releaseProcessLock(file: string): Promise<void> {
  const held = await readProcessLock(file).catch(() => undefined);
  if (held && held.pid !== process.pid) return;
  await rm(file, { force: true });
  fsyncDir(dirname(file));
}
