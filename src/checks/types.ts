import type { Facts } from '../catalog/index.ts';
import type { CustomizedFiles, DetectedFacts, ServiceState } from '../detect/index.ts';
import type { Plan } from '../plan/index.ts';

/**
 * The contract every pre-upgrade check implements. A check looks at one installation (its
 * directory, the facts detection read from it, the plan for the requested target and the host it
 * runs on) and says whether one pre-upgrade task of the catalog is done: `pass`, `warn` or `fail`,
 * with a remediation: one line of what to do, and the command that does it on a second line
 * when there is one (`uplift backup --install /opt/skiff`). Catalog tasks name the check that
 * covers them with `check: <id>`.
 *
 * Cross-product examples (check → installation → result):
 * - `tomcat-port`   securetransport, `Connector port="8009"`       pass
 * - `tomcat-port`   securetransport, `Connector port="1009"`       fail: change every occurrence to a port above 1024
 * - `tomcat-port`   skiff (no Tomcat)                              skip: the installation has no Tomcat connector
 * - `owner`         skiff owned by `skiff`, uplift run as root     fail: run uplift as skiff
 * - `leftover-pids` either product, `var/run/x.pid` of a dead pid  fail: remove var/run/x.pid
 */
export interface Check {
  /** Registry id, kebab-case; the value catalog tasks give as `check:`. */
  readonly id: string;
  /** What the check makes sure of, as a short imperative line: "Free disk for staging and backup". */
  readonly title: string;
  /**
   * Runs the check. Expected outcomes (a running service, a full disk, a missing fact) are
   * results, never exceptions: a check throws only on a bug. It must not change the installation.
   */
  run(ctx: CheckContext): Promise<CheckResult>;
}

/**
 * - `pass`: the task is done.
 * - `warn`: the upgrade may go ahead, but the operator should look (a stale lock, many history files).
 * - `fail`: the upgrade must not start until the remediation is done; `uplift check` exits 3.
 * - `skip`: the check does not concern this installation (no Tomcat in skiff); the message says why.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** One line saying what was found, with the numbers: "12.0 GiB free, 3.1 GiB needed". */
  message: string;
  /**
   * One imperative line saying what to do, then, when a command does it, that command alone on a
   * second line with real values (`uplift resume --install /opt/skiff`), so the text view prints it
   * whole; present on every `warn` and `fail`.
   */
  remediation?: string;
  /** Structured evidence for `--json` (files, pids, byte counts). */
  details?: Record<string, unknown>;
}

/**
 * What the operator is preparing for. `prepare` (the default): staging and backup come next, and
 * services may keep running. `downtime`: the service is about to be switched, and must be stopped.
 */
export type CheckStage = 'prepare' | 'downtime';

/** Everything a check may read. Built by `buildCheckContext`; tests build it the same way. */
export interface CheckContext {
  /** Absolute path of the installation directory. */
  install: string;
  profile: {
    /** The profile's name. */
    name: string;
    /** The product the profile's catalog describes. */
    product: string;
    /** The catalog's `durations.backupNeedsStop`: the vendor wants services stopped for the backup. */
    backupNeedsStop: boolean;
    /** How the operator stops the services, as the profile's lifecycle says (`bin/stop_all`). */
    stopCommand?: string;
    /** The folder the profile counts `data.historyFiles` in (its detection), relative to the installation. */
    historyFolder?: string;
    /** Globs of what changes while the product runs: detection.ignore, paths.data, paths.generated. */
    alwaysChanging?: string[];
    /**
     * Globs of the customer's data (paths.data and paths.databases): a link whose own path
     * matches is backed up and restored through (what it points to), other links as links only.
     */
    data?: string[];
  };
  /** The installation's facts; read through the typed fields of `InstallFacts`. */
  facts: InstallFacts;
  /** The plan for the requested target; absent when there is none (already up to date). */
  plan?: Plan;
  stage: CheckStage;
  /** The current time; injected so results that depend on age are reproducible. */
  now: () => Date;
  host: Host;
}

/**
 * The facts checks read, as detection reports them (`detectFacts` in src/detect), with `--facts`
 * laid over them. Every field is optional, because facts may also come from a file: a check
 * whose fact is missing says so (`warn`, naming the fact) instead of guessing.
 */
export interface InstallFacts extends Facts {
  owner?: Partial<DetectedFacts['owner']>;
  /** Who ran detection: the user uplift runs as. */
  runningAs?: DetectedFacts['runningAs'];
  /** One entry per service the profile names and per other pid file found. */
  services?: ServiceState[];
  /**
   * Files that differ from the vendor's manifest of the installed version, relative to the
   * installation. Older facts files give a plain list of changed files.
   */
  customizedFiles?: Omit<CustomizedFiles, 'notes'> | string[];
  data?: { installBytes?: number; historyFiles?: number; historyBytes?: number };
  /** Read from XML, so numbers may come as strings. */
  ports?: { tomcatConnector?: number | string; tomcatConnectors?: (number | string)[] };
  database?: { type?: string; version?: string; collation?: string; external?: boolean };
}

/** One process of the host. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

/** The host uplift runs on; the real one reads /proc and the kernel, and nothing else does. */
export interface Host {
  /** The effective uid uplift runs as; undefined where there are no uids (Windows). */
  uid: number | undefined;
  /** uplift's own pid. */
  pid: number;
  /** The kernel's boot id, which tells a pid of this boot from a pid of an earlier one. */
  bootId(): Promise<string | undefined>;
  /** Bytes an unprivileged user can still write on the filesystem holding `path`. */
  freeBytes(path: string): Promise<number>;
  /** Every process the host lets uplift see; empty where /proc does not exist. */
  processes(): Promise<ProcessInfo[]>;
  /** True when a process with this pid exists (whoever owns it). */
  isAlive(pid: number): boolean;
}
