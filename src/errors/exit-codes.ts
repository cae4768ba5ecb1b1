/** Process exit codes; the meaning of each is part of uplift's interface for scripts. */
export const ExitCode = {
  ok: 0,
  /** The operation failed; the installation is intact. */
  failed: 1,
  /** Usage error or invalid input; nothing was changed. */
  badInput: 2,
  /** Blocked by policy: a blocked verdict, a freeze window, a promotion gate. */
  blocked: 3,
  /** Another run holds the lock. */
  locked: 4,
  /** A run is incomplete: `uplift resume` or `uplift rollback` is needed. */
  incomplete: 5,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
