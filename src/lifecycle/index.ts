export { findRunningProcesses, isRunning } from './processes.ts';
export { waitUntilReady } from './readiness.ts';
export { runCheck } from './run-check.ts';
export { runCommand } from './run-command.ts';
export {
  Check,
  Command,
  HttpCheck,
  Lifecycle,
  type LifecycleInput,
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
