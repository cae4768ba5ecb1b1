export { serviceControl } from './control.ts';
export { findRunningProcesses, isRunning } from './processes.ts';
export { type ProbeRound, probeOnce, waitUntilReady } from './readiness.ts';
export { runCheck } from './run-check.ts';
export { runCommand } from './run-command.ts';
// The zod schemas are in ./schema.ts (imported from there where a profile is validated): a run
// that only drives services does not load zod.
export type {
  Check,
  Command,
  HttpCheck,
  Lifecycle,
  LifecycleInput,
  Paths,
  Service,
} from './schema.ts';
export { killServices, startServices, stopServices } from './services.ts';
export { runSmokeTests } from './smoke.ts';
export type {
  CheckResult,
  CommandResult,
  LifecycleTarget,
  ReadyResult,
  RunningProcess,
  ServiceControlOptions,
} from './types.ts';
export { expandVars } from './vars.ts';
