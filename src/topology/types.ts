/**
 * The topology (`uplift.yaml`, docs/topology.md): environments in promotion order, each with its
 * deployments, each with a type, a profile and nodes. These are the parsed, validated shapes the
 * rest of uplift consumes; the zod schemas that produce them are in ./schema.ts.
 */

/** How a deployment is upgraded (the order each needs: src/rollout, docs/topology.md). */
export type DeploymentType =
  | 'standalone'
  | 'standard-cluster'
  | 'enterprise-cluster'
  | 'streaming'
  | 'active-passive'
  | 'rolling';

/** Where a node's installation is: a folder on this machine, or one reached over SSH. */
export type NodeAddress =
  | { kind: 'local'; path: string }
  | {
      kind: 'ssh';
      user: string;
      host: string;
      port: number;
      /** The installation folder on the node. */
      path: string;
    };

/** How the controller proves it talks to the right SSH server (never accept-all). */
export type HostKeyPolicy =
  /** A pinned public key, as in a `.pub` file or known_hosts: `ssh-ed25519 AAAA…`. */
  | { kind: 'pinned'; key: string }
  /** An OpenSSH known_hosts file (hashed names and `[host]:port` entries understood). */
  | { kind: 'known-hosts'; file: string };

export interface SshSettings {
  hostKey: HostKeyPolicy;
  /** Private key file; else the agent at SSH_AUTH_SOCK. Never logged. */
  identity?: string;
  /** Seconds to wait for the connection and handshake (default 20). */
  connectTimeoutSeconds: number;
}

export interface TopologyNode {
  /** Unique within its deployment; used in the audit log, events and `--node`. */
  name: string;
  address: NodeAddress;
  /** Set for SSH nodes: how the host is verified and who logs in. */
  ssh?: SshSettings;
  /** streaming: `backend` or `edge`. */
  role?: 'backend' | 'edge';
  /** active-passive: the side the node is on. */
  side?: 'a' | 'b';
  /** active-passive: the server's name in the balancer's backend (default the node's name). */
  balancerServer?: string;
  /** The node's Node.js runtime uplift runs on (default `node` on the node's PATH). */
  nodeRuntime: string;
  /** The node's own working folder for uplift (agent, packs); default `~/.uplift-agent`. */
  agentDir?: string;
}

/** How traffic is moved between the sides of an active/passive pair. */
export type BalancerSettings =
  | {
      kind: 'haproxy';
      /** The runtime API: a unix socket path or `host:port` (a `stats socket ipv4@…`). */
      socket: string;
      /** The backend whose servers are the nodes. */
      backend: string;
      /** Seconds to wait for a drained server's sessions to end (default 120). */
      drainTimeoutSeconds: number;
    }
  | {
      kind: 'command';
      /** argv run with `${server}` and `${side}` expanded; exit 0 = done. */
      drain: string[];
      enable: string[];
      /** Prints the number of sessions still open on `${server}`; optional. */
      sessions?: string[];
      drainTimeoutSeconds: number;
    };

export interface RollingSettings {
  /** Nodes upgraded at once (default 1). */
  maxUnavailable: number;
  /** Seconds to wait after a batch passed its health gate (default 0). */
  pauseSeconds: number;
  /** Stop when more than this share of a batch failed (0 = the first failure stops). */
  maxFailureRatio: number;
}

export interface Deployment {
  name: string;
  type: DeploymentType;
  /** A profile name or folder (as `--profile` takes it), resolved against the topology file. */
  profile: string;
  /** The target version (default `latest`). */
  to: string;
  channel?: string;
  /** Folder of the packs (default: the fetch cache) and the trusted keys. */
  packs?: string;
  trust?: string;
  /** Nodes upgraded at once when the type allows it (default 1). */
  concurrency: number;
  /** Seconds one node's upgrade may take before it is stopped and counted failed (default 3600). */
  nodeTimeoutSeconds: number;
  nodes: TopologyNode[];
  balancer?: BalancerSettings;
  rolling?: RollingSettings;
  /** standard-cluster: a command run after all nodes started (the guide's manual sync), per node. */
  afterStart?: string[];
  /**
   * Names of the controller's environment variables passed to every uplift command on the nodes;
   * the values are never logged, stored or audited.
   */
  passEnv?: string[];
  /** Where in the topology file this deployment is written (for errors): `file:line:col`. */
  at: string;
}

export interface Environment {
  name: string;
  deployments: Deployment[];
  at: string;
}

export interface Topology {
  /** The file the topology was read from (absolute). */
  file: string;
  /** SHA-256 of the canonical topology (what a run records). */
  digest: string;
  /** In promotion order: a rollout to environments[k] needs environments[0..k-1] passed. */
  environments: Environment[];
}
