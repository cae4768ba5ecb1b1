/**
 * The apply engine: runs a plan's hops on an installation (verify, stage, backup, stop, switch,
 * migrate, start, probe, smoke, commit) under a checksummed, fsync'd journal; resume, rollback,
 * status and history. See docs/apply.md. Consumes a Plan (types only from plan/).
 *
 * The engine, dry run, resume and rollback pull in packs, merges, backups and vendor zips; they are
 * loaded when first called, so `uplift status` and `uplift history` load only the state readers.
 */
import type { ServiceControl } from '../backup/index.ts';
import type { Profile } from '../profile/index.ts';
import type { DryRunResult } from './dry-run.ts';
import type { ResumeOptions, ResumeResult, RollbackResult } from './resume.ts';
import type { ServiceChange, ServiceStatus } from './service-ops.ts';
import type { ApplyOptions, ApplyResult } from './types.ts';

export type { DryRunResult } from './dry-run.ts';
export { type HistoryEntry, type HistoryHop, readHistory } from './history.ts';
export { type HopStep, hopSteps, type JournalRecord, readJournal } from './journal.ts';
export { readLock, staleReason, type UpgradeLock } from './lock.ts';
export type { HopMethodName, VendorInstallerOptions } from './methods/index.ts';
export { enforceOwnership, type Ownership } from './ownership.ts';
export { type StatePaths, statePaths } from './paths.ts';
export { packHops, resolvePack } from './plan-hops.ts';
export type { ResumeMode, ResumeOptions, ResumeResult, RollbackResult } from './resume.ts';
export type { ServiceChange, ServiceProcess, ServiceStatus } from './service-ops.ts';
export {
  type ResumeAction,
  readStatus,
  refuseIfIncomplete,
  type StatusResult,
} from './status.ts';
export type { ApplyOptions, ApplyResult, HopReport } from './types.ts';

/**
 * The installation's services as backup and restore drive them (the profile's lifecycle), or
 * undefined when the profile declares none.
 */
export async function serviceControlOf(
  profile: Profile,
  install: string,
  version?: string,
): Promise<ServiceControl | undefined> {
  if (!profile.manifest.lifecycle) return undefined;
  return (await import('./services.ts')).servicesOf(profile, install).control(version);
}

/** Upgrades the installation along the plan's pack hops (src/apply/engine.ts). */
export async function runApply(o: ApplyOptions): Promise<ApplyResult> {
  return (await import('./engine.ts')).runApply(o);
}

/** Verifies and stages every hop in a temporary folder and reports what would change. */
export async function dryRun(o: ApplyOptions): Promise<DryRunResult> {
  return (await import('./dry-run.ts')).dryRun(o);
}

/** Finishes the run a crash left, or with `abort` takes it back to its start (src/apply/resume.ts). */
export async function resumeRun(install: string, o: ResumeOptions = {}): Promise<ResumeResult> {
  return (await import('./resume.ts')).resumeRun(install, o);
}

/** Undoes the last committed upgrade, or with `wholeRun` its whole run (src/apply/resume.ts). */
export async function rollbackLast(
  install: string,
  onEvent?: (s: string) => void,
  profile?: Profile,
  o: { wholeRun?: boolean } = {},
): Promise<RollbackResult> {
  return (await import('./resume.ts')).rollbackLast(install, onEvent, profile, o);
}

/** Where the installation's services stand: version, processes, one readiness round, run, lock. */
export async function serviceStatus(
  install: string,
  profile: Profile,
  o: { probeTimeoutMs?: number } = {},
): Promise<ServiceStatus> {
  return (await import('./service-ops.ts')).serviceStatus(install, profile, o);
}

/** Stops the services as apply does, under apply's lock (src/apply/service-ops.ts). */
export async function serviceStop(
  install: string,
  profile: Profile,
  onEvent?: (line: string) => void,
): Promise<ServiceChange> {
  return (await import('./service-ops.ts')).serviceStop(install, profile, onEvent);
}

/** Starts the services and waits until ready, under apply's lock (src/apply/service-ops.ts). */
export async function serviceStart(
  install: string,
  profile: Profile,
  onEvent?: (line: string) => void,
): Promise<ServiceChange> {
  return (await import('./service-ops.ts')).serviceStart(install, profile, onEvent);
}
