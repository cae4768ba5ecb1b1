/**
 * Fault injection for the crash-safety and expiry tests. The state is set only by calling
 * {@link setFaults}: the production entry (src/cli/main.ts) never calls it and nothing reads it
 * from the environment, so no operator's shell can kill a run at a crash point or move the clock
 * that metadata expiry and freeze checks trust. Tests call it in-process, or spawn the CLI through
 * test/util/cli-with-faults.mjs, a test-only entry that sets it before loading the CLI.
 */
export interface Faults {
  /** Crash point id at which the process kills itself with SIGKILL (docs/backup.md, docs/apply.md). */
  crashAt?: string;
  /** The time {@link currentTime} returns instead of the clock's. */
  now?: Date;
}

let faults: Readonly<Faults> = {};

/** Replaces the injected faults; `setFaults({})` turns them all off. */
export function setFaults(next: Faults): void {
  faults = {
    crashAt: next.crashAt,
    now: next.now === undefined ? undefined : new Date(next.now.getTime()),
  };
}

/**
 * A named point in a crash-safe sequence: when a test injected this id, the process dies at once,
 * the way a power cut or `kill -9` would, so the test sees exactly what is on disk at that point.
 */
export function crashPoint(id: string): void {
  if (faults.crashAt === id) process.kill(process.pid, 'SIGKILL');
}

/** The time uplift takes as now: the clock's, unless a test injected one. */
export function currentTime(): Date {
  return faults.now === undefined ? new Date() : new Date(faults.now.getTime());
}
