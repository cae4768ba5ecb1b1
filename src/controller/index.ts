export {
  type CheckNodesOptions,
  checkNodes,
  type DeploymentCheckResult,
  type NodeCheck,
  type NodeCheckResult,
} from './check-nodes.ts';
export {
  actorName,
  type Connection,
  type ConnectOptions,
  connect,
  controllerId,
  defaultBundle,
  deploymentsOf,
  environmentOf,
  passedEnv,
} from './connect.ts';
export {
  type FleetDeployment,
  type FleetEnvironment,
  type FleetNode,
  readFleetEnvironment,
} from './fleet.ts';
export { type FreshRolloutPlan, planFreshRollout } from './plan-fresh.ts';
export {
  type DeploymentSurvey,
  eachLimit,
  type NodePlan,
  type NodeSurvey,
  nodeStatus,
  nodeTargetArgs,
  type Survey,
  survey,
  surveyConcurrency,
} from './survey.ts';
