/**
 * The apply engine: runs a plan's hops on an installation (verify, stage, backup, stop, switch,
 * migrate, start, probe, smoke, commit) under a checksummed, fsync'd journal; resume, rollback,
 * status and history. See docs/apply.md. Consumes a Plan (types only from plan/).
 */

export { crashPoint } from '../util/index.ts';
export { type DryRunResult, dryRun } from './dry-run.ts';
export {
  type ApplyOptions,
  type ApplyResult,
  checkSameFilesystem,
  defaultLinkGlobs,
  type HopReport,
  manualStepError,
  packHops,
  readVendorManifest,
  resolvePack,
  runApply,
} from './engine.ts';
export { type HistoryEntry, type HistoryHop, readHistory } from './history.ts';
export {
  type HopStep,
  hopSteps,
  type JournalRecord,
  parseJournal,
  readJournal,
} from './journal.ts';
export { readLock, staleReason, type UpgradeLock } from './lock.ts';
export {
  type HopMethodName,
  hopMethodNames,
  installedVersion,
  type VendorInstallerOptions,
} from './methods/index.ts';
export { enforceOwnership, foreignEntries, type Ownership } from './ownership.ts';
export { type StatePaths, statePaths } from './paths.ts';
export {
  type ResumeAction,
  type ResumeResult,
  type RollbackResult,
  readStatus,
  refuseIfIncomplete,
  resumeRun,
  rollbackLast,
  type StatusResult,
} from './resume.ts';
