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
  type DeploymentSurvey,
  eachLimit,
  type NodePlan,
  type NodeSurvey,
  nodeStatus,
  type Survey,
  survey,
  surveyConcurrency,
} from './survey.ts';
