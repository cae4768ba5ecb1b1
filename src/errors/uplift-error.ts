import { codes, type UpliftCode } from './codes.ts';
import { ExitCode } from './exit-codes.ts';

/** Where in an input file a problem is: 1-based line and column, and the field path. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
  /** The field, written the way an operator reads it: `releases[3].version`. */
  path?: string;
}

export interface UpliftErrorOptions {
  /** One imperative sentence: what to do. */
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCode;
  location?: SourceLocation;
  /**
   * True when the command guarantees nothing on disk changed. Defaults to true only for exit codes
   * 2 (bad input), 3 (blocked) and 4 (lock held), which are raised before anything is written;
   * any other failure must pass `unchanged: true` itself, and only when it knows it.
   */
  unchanged?: boolean;
  /**
   * The state the installation is in now, in words an operator acts on ("the new version's files
   * are in place, its service is stopped"); required of an error that leaves a run incomplete.
   */
  state?: string;
  /** The command that continues from that state (`uplift resume --install /opt/skiff`). */
  next?: string;
  /** Further problems found in the same input, reported together. */
  details?: readonly UpliftErrorDetail[];
  /**
   * What a run ended as, in the fields its success would print (`outcome`, `from`, `to`,
   * `version`, `runId`, `service`): `--json` prints them beside `error`, so a script reads one
   * shape whether the command succeeded or not.
   */
  result?: Record<string, unknown>;
}

/** Exit codes whose errors are raised before anything is written: nothing changed unless said otherwise. */
const unchangedByDefault: ReadonlySet<ExitCode> = new Set([
  ExitCode.badInput,
  ExitCode.blocked,
  ExitCode.locked,
]);

export interface UpliftErrorDetail {
  message: string;
  location?: SourceLocation;
  hint?: string;
}

/** Every failure an operator can reach: a stable code, a message naming the input, and a hint. */
export class UpliftError extends Error {
  readonly code: UpliftCode;
  readonly hint?: string;
  readonly exitCode: ExitCode;
  readonly location?: SourceLocation;
  readonly unchanged: boolean;
  readonly state?: string;
  readonly next?: string;
  readonly details: readonly UpliftErrorDetail[];
  readonly result?: Record<string, unknown>;

  constructor(code: UpliftCode, message: string, opts: UpliftErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'UpliftError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? codes[code];
    this.location = opts.location;
    this.unchanged = opts.unchanged ?? unchangedByDefault.has(this.exitCode);
    this.state = opts.state;
    this.next = opts.next;
    this.details = opts.details ?? [];
    this.result = opts.result;
  }

  /** The parseable form printed under `--json`. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      location: this.location,
      details: this.details.length > 0 ? this.details : undefined,
      unchanged: this.unchanged,
      state: this.state,
      next: this.next,
    };
  }
}

/**
 * The same error with `result` (what the run ended as) added; anything but an UpliftError is
 * returned as it is.
 */
export function withResult(err: unknown, result: Record<string, unknown>): unknown {
  if (!(err instanceof UpliftError)) return err;
  const e = new UpliftError(err.code, err.message, {
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
    ...(err.cause !== undefined ? { cause: err.cause } : {}),
    exitCode: err.exitCode,
    ...(err.location ? { location: err.location } : {}),
    unchanged: err.unchanged,
    ...(err.state !== undefined ? { state: err.state } : {}),
    ...(err.next !== undefined ? { next: err.next } : {}),
    details: err.details,
    result: { ...err.result, ...result },
  });
  e.stack = err.stack;
  return e;
}

/** Already reported to the operator; the process just exits with this code. */
export class ExitError extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode) {
    super(`exit ${exitCode}`);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

/** Formats `file:line:col` for messages. */
export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.line !== undefined && loc.col !== undefined) s += `:${loc.col}`;
  return s;
}
