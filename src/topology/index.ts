export { formatAddress } from './address.ts';
export {
  defaultTopologyFile,
  loadInventory,
  loadTopology,
  openTopology,
  parseInventory,
  parseTopology,
} from './load.ts';
export type {
  BalancerSettings,
  Deployment,
  DeploymentType,
  Environment,
  HostKeyPolicy,
  NodeAddress,
  RollingSettings,
  SshSettings,
  Topology,
  TopologyNode,
} from './types.ts';
