import type { TopologyNode } from '../topology/types.ts';
import { localTransport } from './local.ts';
import { sshTransport } from './ssh.ts';
import type { NodeTransport } from './types.ts';

export {
  type AgentKit,
  type AgentRunOptions,
  type AgentRunResult,
  installAgent,
  keptKits,
  kitQuietMs,
  type NodeAgent,
  type NodeRun,
  type NodeRuntimeInfo,
  nativeKitPackages,
  runOnNodes,
} from './agent.ts';
export { type PacksSent, type PackToSend, packQuietMs, putPacks } from './agent-packs.ts';
export { fingerprint } from './host-key.ts';
export type { ExecOptions, ExecResult, NodeTransport, PutOptions, RemoteStat } from './types.ts';

export interface OpenTransportOptions {
  /** Progress lines (connected, copied, resumed); never holds a key or a passphrase. */
  onLog?: (line: string) => void;
}

/**
 * The transport to a node: this machine for a local path, an SSH connection (host key verified
 * before anything is sent) for `ssh://`. Connection failures reject here, coded:
 * UPLIFT_SSH_HOST_UNKNOWN, UPLIFT_SSH_HOST_KEY_CHANGED, UPLIFT_SSH_AUTH, UPLIFT_SSH_CONNECT.
 */
export async function openTransport(
  node: TopologyNode,
  o: OpenTransportOptions = {},
): Promise<NodeTransport> {
  return node.address.kind === 'local' ? localTransport() : sshTransport(node, o);
}
