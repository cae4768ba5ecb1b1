import type { UpliftCode } from '../errors/index.ts';

/** A live process of the installation's product, as its profile's lifecycle tells them. */
export interface RunningProcess {
  pid: number;
  /** Where it was found: a pid file (`var/run/server.pid`) or the service's name. */
  label: string;
}

export interface ServiceControlOptions {
  /** The code to throw when it fails: backup, restore and apply report their own. */
  code: Extract<UpliftCode, `UPLIFT_${string}_STOP_FAILED` | `UPLIFT_${string}_START_FAILED`>;
  /** True when the installation has already been changed (restore after the swap). */
  changed?: boolean;
}

/**
 * What backup and restore need of the product's services. Backup knows no product: the caller
 * builds this from the profile's `lifecycle` (src/lifecycle `serviceControl`). Without one, backup
 * and restore cannot tell whether the service runs and refuse `--stop`/`--start`.
 */
export interface ServiceControl {
  /** The product's live processes in this installation. */
  running(): Promise<RunningProcess[]>;
  /** Stops every service and waits until its processes are gone (never SIGKILL). */
  stop(o: ServiceControlOptions): Promise<void>;
  /** Starts every service; returns the pids seen. */
  start(o: ServiceControlOptions): Promise<number[]>;
  /** True for a file that describes a running process (a pid file): left out of an online backup. */
  isRuntimeFile(path: string): boolean;
}
