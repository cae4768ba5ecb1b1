/**
 * The shapes of a rollout (docs/rollout.md): the planner's output, the narrow node agent the
 * executor drives, the events it emits and the result it returns.
 */
import type { Balancer } from '../balancer/types.ts';
import type { PlanKey, StateStore } from '../state/types.ts';
import type { DeploymentType, Environment } from '../topology/types.ts';

/** What one step does; each runs on `nodes` (a balancer step on their servers). */
export type StepKind =
  /** `service stop` on each node. */
  | 'stop'
  /** `apply --to V`: with `leaveStopped` the node stays stopped after its commit. */
  | 'upgrade'
  /** `service start` (waits for readiness); streaming checks the backend's version first. */
  | 'start'
  /** `service status`: the node must be ready and at the target version. */
  | 'probe'
  /** Balancer: stop sending new connections to the nodes' servers. */
  | 'drain'
  /** Balancer: send connections to the nodes' servers again. */
  | 'enable'
  /** Balancer: wait until the nodes' servers have no open session. */
  | 'wait-drained'
  /** The deployment's `afterStart` command on each node (the guide's manual sync). */
  | 'after-start'
  /** Wait `seconds` (rolling: between batches). */
  | 'pause'
  /** Rolling: the health gate after a batch (a probe, judged by the failure ratio). */
  | 'gate';

export interface RolloutStep {
  kind: StepKind;
  nodes: string[];
  /** upgrade: leave the node stopped after a successful commit (`apply --leave-stopped`). */
  leaveStopped?: boolean;
  /** Nodes of the step run at once (default 1), in the order of `nodes`. */
  parallel?: number;
  /** pause: seconds to wait. */
  seconds?: number;
  /** Why the step is there, for the plan's text. */
  note?: string;
}

/** `${deployment}/${node}`: how node facts are keyed across an environment. */
export type NodeKey = string;

/** What a node reported (`uplift service status --json`). */
export interface NodeStatus {
  version: string;
  running: boolean;
  /** The profile's readiness probes pass. */
  ready?: boolean;
  /** Its apply journal is interrupted: `uplift resume` is needed on the node. */
  interrupted?: boolean;
  /** A run holds the node's lock. */
  lock?: boolean;
}

/** Expected seconds per node, from the node's plan (its phases). */
export interface NodeEstimate {
  stopSeconds: number;
  /** What `apply --leave-stopped` takes on a stopped node: switch, migrate, commit. */
  upgradeSeconds: number;
  /** Start until ready. */
  startSeconds: number;
  probeSeconds?: number;
}

export interface PlanRolloutOptions {
  /** The resolved target version of each deployment (its `to`, `latest` resolved by its plan). */
  targets: Record<string, string>;
  /** Only these deployments (default all of the environment's). */
  deployments?: string[];
}

export interface DeploymentRolloutPlan {
  deployment: string;
  type: DeploymentType;
  to: string;
  steps: RolloutStep[];
  /**
   * Index of the step after whose success a failure no longer rolls the deployment back
   * automatically (a failure in that step itself still does); null = every failure rolls back.
   */
  pointOfNoReturn: number | null;
  /** Why that step, in a sentence. */
  pointOfNoReturnReason: string;
  /** Nodes already at the target: not upgraded again. */
  skipped: string[];
  /** Nodes this plan upgrades, in order. */
  upgrades: string[];
  /** The nodes as they were when planned: what a rollback restores. */
  before: Record<string, NodeStatus>;
  downtime: {
    /** Seconds each node is out of service. */
    perNode: Record<string, number>;
    /** Seconds a client of the deployment gets no service. */
    serviceSeconds: number;
    /** How serviceSeconds was counted. */
    basis: string;
  };
  /** Seconds from the first step's start to the last step's end. */
  expectedSeconds: number;
}

export interface RolloutPlan {
  env: string;
  deployments: DeploymentRolloutPlan[];
}

/** What a node command returned. */
export interface AgentResult {
  /** Exit code, or null when it ended by a signal. */
  code: number | null;
  /** The command's `--json` output, parsed, when it printed one. */
  json?: unknown;
  stdout: string;
  stderr: string;
}

/**
 * The part of a node agent (src/transport's NodeAgent) the executor needs: run uplift on the node,
 * and where the deployment's profile, packs and trust file are on the node.
 */
export interface RolloutAgent {
  /** For messages; never holds a secret. */
  readonly label: string;
  /** The profile as `--profile` takes it on the node (a name or a folder there). */
  readonly profilePath?: string;
  /** Folder of the packs on the node. */
  readonly packsPath?: string;
  /** Trusted keys file on the node. */
  readonly trustPath?: string;
  /** Runs `uplift <args>` on the node. Rejects (UPLIFT_TRANSPORT_TIMEOUT) after timeoutMs. */
  run(
    args: string[],
    o?: { timeoutMs?: number; onEvent?: (obj: unknown) => void },
  ): Promise<AgentResult>;
  /** Runs a command of the operator's on the node (the `afterStart` hook); no shell. */
  exec?(
    argv: string[],
    o?: { timeoutMs?: number },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export type NodeEventState = 'started' | 'ok' | 'failed';

/** One line of `rollout --json` (docs/rollout.md "Events"). */
export type RolloutEvent =
  | {
      type: 'node';
      env: string;
      deployment: string;
      node: string;
      step: string;
      state: NodeEventState;
      seconds?: number;
      version?: string;
      code?: string;
    }
  | {
      type: 'deployment';
      env: string;
      deployment: string;
      state:
        | 'started'
        | 'passed'
        | 'failed'
        | 'rolled-back'
        | 'skipped'
        | 'claimed'
        | 'not-started';
      reason?: string;
      claimedBy?: string;
    }
  | { type: 'run'; env: string; runId: string; outcome: RolloutOutcome };

export type RolloutOutcome = 'passed' | 'failed' | 'rolled-back' | 'interrupted';

export type DeploymentOutcome =
  | 'passed'
  | 'failed'
  | 'rolled-back'
  /** Another controller holds its claim. */
  | 'claimed'
  /** Not started: an earlier deployment failed, or the run was interrupted. */
  | 'not-started'
  | 'interrupted';

export interface DeploymentResult {
  deployment: string;
  outcome: DeploymentOutcome;
  /** The error code that stopped it. */
  code?: string;
  message?: string;
  /** Nodes that ended on another version than before the run although the policy rolled back. */
  notRestored?: string[];
  /** rolling: nodes that failed within the tolerated failure ratio (left at their old version). */
  failedNodes?: string[];
}

export interface RolloutResult {
  runId: string;
  outcome: RolloutOutcome;
  deployments: DeploymentResult[];
  /** False when the state store could not be written: the audit went to `pendingAuditFile`. */
  storeReachable: boolean;
}

/** A promotion gate's verdict for the run, audited at its start. */
export interface GateRecord {
  pass: boolean;
  /** `--override-gate --reason`: run although the gate refused. */
  overrideReason?: string;
  detail?: Record<string, unknown>;
}

export interface RolloutContext {
  env: Environment;
  /** The planner's output for the deployments this run covers, in run order. */
  plans: DeploymentRolloutPlan[];
  /** The plan key each deployment's plan is gated and recorded by. */
  planKeys?: Record<string, PlanKey>;
  topologyDigest: string;
  agentFor(deployment: string, node: string): Promise<RolloutAgent>;
  balancerFor(deployment: string): Promise<Balancer>;
  /** Undefined when the store could not be opened (only resume goes on without it). */
  store: StateStore | undefined;
  controller: string;
  /** user@host. */
  actor: string;
  onEvent?(e: RolloutEvent): void;
  /** Stops the run between node actions: running node commands finish; the run is interrupted. */
  signal?: AbortSignal;
  gate?: GateRecord;
  /** Audit entries the store could not take (default `.uplift/audit-pending.jsonl`). */
  pendingAuditFile?: string;
  /** Waits (pause steps); tests pass a fake. */
  sleep?(ms: number): Promise<void>;
}

export interface ResumeContext extends Omit<RolloutContext, 'plans' | 'gate'> {
  /** Resolved target version per deployment (the interrupted run's). */
  targets: Record<string, string>;
  estimates: Map<NodeKey, NodeEstimate>;
  /** Only these deployments (default all of the environment's). */
  deployments?: string[];
}
