/**
 * Staging's writes in flight: at most `limit` at once, so the thread pool and the disk queue stay
 * busy without holding every file of a release in memory or in open descriptors. `add` waits for a
 * free place (the bound); the first failure is kept and thrown by the next `add` and by `drain`.
 * A caller that stops early must still `drain` before it removes the tree the writes go into.
 */
export interface WriteQueue {
  add(task: () => Promise<void>): Promise<void>;
  /** Waits for every write under way; throws the first failure. */
  drain(): Promise<void>;
}

export function writeQueue(limit: number): WriteQueue {
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const check = () => {
    if (failure) throw failure.error;
  };
  return {
    async add(task) {
      check();
      while (running.size >= limit) await Promise.race(running);
      check();
      const p: Promise<void> = task()
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => running.delete(p));
      running.add(p);
    },
    async drain() {
      while (running.size > 0) await Promise.all(running);
      check();
    },
  };
}

/** Writes in flight while staging: enough to overlap the pool's 4 threads and the disk. */
export const stageWritesInFlight = 16;
