import type { UpliftCode } from '../errors/index.ts';
import type { Lifecycle } from './schema.ts';

/** One installation as the lifecycle runtime sees it: where it is and what its profile says. */
export interface LifecycleTarget {
  /** The installation directory (absolute). */
  install: string;
  /** The profile folder (absolute), for `${profile}`. */
  profileDir: string;
  /** The profile's `lifecycle:` section, parsed (defaults applied). */
  lifecycle: Lifecycle;
  /** The version expected to run, for `${version}`. */
  version?: string;
  /** The installation's detected facts, for `${fact:a.b}`; called only when a string uses one. */
  facts?: () => Promise<Record<string, unknown>>;
  /** Progress lines for people (never an environment value: only names). */
  onEvent?: (line: string) => void;
  /**
   * More environment for every command of the lifecycle (under the command's own): apply marks
   * its run's commands with it, so that resume finds what a killed run left running.
   */
  env?: Record<string, string>;
}

/** A live process of a service. */
export interface RunningProcess {
  service: string;
  pid: number;
  /** The pid file naming it, relative to the installation (absent for processMatch and systemd). */
  pidFile?: string;
}

export interface ServiceControlOptions {
  /** The code thrown on failure: each caller (apply, backup, restore) reports its own. */
  code: Extract<UpliftCode, `UPLIFT_${string}_STOP_FAILED` | `UPLIFT_${string}_START_FAILED`>;
  /** True once the installation has been changed: the error then does not promise "unchanged". */
  changed?: boolean;
}

export interface ReadyResult {
  /** From the call until ready. */
  seconds: number;
  /** How long every probe passed in a row before it returned. */
  stableSeconds: number;
  /** The live processes of every service in the last round. */
  pids: number[];
  /** Each probe's name and what it saw in the last round. */
  probes: { name: string; detail: string }[];
}

export interface CheckResult {
  ok: boolean;
  /** What it got: for a failure, enough to act on (status, body excerpt, output tail). */
  detail: string;
}

export interface CommandResult {
  /**
   * The exit code; 128 + the signal number when a signal ended it (137 after the timeout's
   * SIGKILL), 127 when the program does not exist, 126 when it cannot be run.
   */
  code: number;
  /** The last 16 KiB or so of stdout and stderr together, trimmed. */
  output: string;
}
