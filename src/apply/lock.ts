import { UpliftError } from '../errors/index.ts';
import {
  type AcquiredLock,
  acquireProcessLock,
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
export type Acquired = AcquiredLock;

export function readLock(p: StatePaths): Promise<UpgradeLock | undefined> {
  return readProcessLock(p.lock);
}

/**
 * Takes the installation's lock, or throws UPLIFT_APPLY_LOCKED (exit 4) while a live process of
 * this boot holds it. A stale lock (dead pid, other boot, reused pid) is moved aside as
 * `lock.stale-<time>` and replaced; the caller records the recovery in the journal.
 */
export function acquireLock(p: StatePaths, command: string, runId?: string): Promise<Acquired> {
  return acquireProcessLock(p.lock, {
    command,
    ...(runId ? { runId } : {}),
    locked: (held) =>
      new UpliftError(
        'UPLIFT_APPLY_LOCKED',
        `another uplift ${held.command ?? 'run'} holds ${p.lock}: pid ${held.pid} since ${held.startedAt}`,
        {
          hint: `Wait for pid ${held.pid} to finish (uplift status --install ${p.install} shows where it stands); never remove the lock while it runs.`,
          unchanged: true,
        },
      ),
    busy: () =>
      new UpliftError('UPLIFT_APPLY_LOCKED', `cannot take the lock ${p.lock}`, {
        hint: 'Another uplift is taking and releasing the lock; try again.',
        unchanged: true,
      }),
  });
}

/** Releases the lock if this process holds it. */
export function releaseLock(p: StatePaths): Promise<void> {
  return releaseProcessLock(p.lock);
}
