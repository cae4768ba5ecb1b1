export {
  assertGate,
  describeGate,
  type GateDifference,
  type GateField,
  type GateGap,
  type GateVerdict,
  gateFor,
} from './gate.ts';
export { nodeCommands, nodeError, parseStatus } from './node-commands.ts';
export { nodeKey, planRollout } from './plan-rollout.ts';
export { defaultPendingAuditFile, Recorder } from './recorder.ts';
export { resumeRollout } from './resume-rollout.ts';
export { runRollout } from './run-rollout.ts';
export type * from './types.ts';
