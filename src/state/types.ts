/**
 * The state store (docs/state.md): runs, node states, step timings, facts snapshots, plans and an
 * append-only audit log. SQLite by default (a file in the working folder), PostgreSQL when
 * UPLIFT_DATABASE_URL is set; one query layer and one set of migrations (kysely) for both.
 * The store is an index and a history: each node's apply journal stays on the node.
 */

export type RunOutcome = 'running' | 'passed' | 'failed' | 'rolled-back' | 'interrupted';

export interface RunRecord {
  id: string;
  env: string;
  /** Deployments this run covers (all of the environment's unless `--deployment`). */
  deployments: string[];
  topologyDigest: string;
  controller: string;
  startedAt: string;
  finishedAt?: string;
  outcome: RunOutcome;
  dryRun: boolean;
}

/**
 * What "the same plan" means for a promotion gate: the profile's digest, the path of versions and
 * the digests of the packs along it. Equal keys = the same upgrade.
 */
export interface PlanKey {
  profile: string;
  profileDigest: string;
  path: string[];
  packDigests: string[];
}

export type NodeStateName =
  | 'pending'
  | 'stopped'
  | 'upgrading'
  | 'upgraded'
  | 'started'
  | 'validated'
  | 'failed'
  | 'rolling-back'
  | 'rolled-back';

export interface NodeStateRecord {
  runId: string;
  deployment: string;
  node: string;
  state: NodeStateName;
  fromVersion?: string;
  toVersion?: string;
  updatedAt: string;
}

export interface AuditEntry {
  /** Set by the store. */
  id?: number;
  at?: string;
  /** Who: the operator (user@host) and the controller id. */
  actor: string;
  controller: string;
  runId?: string;
  env?: string;
  deployment?: string;
  node?: string;
  /** What, e.g. `rollout.start`, `node.stop`, `node.upgrade`, `node.start`, `gate.override`. */
  action: string;
  outcome: 'ok' | 'failed' | 'refused' | 'started';
  detail?: Record<string, unknown>;
}

/** One controller's hold on one deployment; released on release(), or when the controller dies. */
export interface Claim {
  deploymentKey: string;
  controller: string;
  /** Idempotent. */
  release(): Promise<void>;
  /**
   * True once the hold is gone without release(): on PostgreSQL the claim's own connection broke,
   * which ends the lock with it. A controller that sees it must stop working on the deployment.
   */
  readonly lost?: boolean;
}

/** A row of the claims table, for `uplift fleet` and the audit view. */
export interface ClaimRecord {
  deploymentKey: string;
  controller: string;
  pid: number;
  hostname: string;
  claimedAt: string;
  heartbeatAt: string;
  /**
   * Whether the claim is still held: on PostgreSQL, its advisory lock is held by some session; on
   * SQLite, its holder is not known dead (same host, pid gone) and its heartbeat is fresh.
   */
  live: boolean;
}

export interface StepTiming {
  runId: string;
  deployment: string;
  node: string;
  step: string;
  seconds: number;
  at: string;
}

export interface FactsSnapshot {
  runId?: string;
  deployment: string;
  node: string;
  facts: unknown;
  /** sha256 of the facts' canonical JSON. */
  digest: string;
  at: string;
}

/** A node's checks as `uplift check --env` last ran them: what `uplift fleet` shows. */
export interface NodeCheckRecord {
  env: string;
  deployment: string;
  node: string;
  /** The node's worst check: `fail` when it is unreachable or its runtime is refused too. */
  status: 'pass' | 'warn' | 'fail';
  /** Counts of the node's checks (the controller's and its own). */
  pass: number;
  warn: number;
  fail: number;
  /** Ids of the failed checks, in order (`reachable`, `node-runtime`, `disk-space`…). */
  failed: string[];
  /** The coded error that stopped the node's checks (`UPLIFT_NODE_RUNTIME`, `UPLIFT_SSH_AUTH`…). */
  code?: string;
  /** Set by the store. */
  at?: string;
}

/** A named token of `uplift serve`: `viewer` reads, `operator` also acts. */
export type TokenRole = 'viewer' | 'operator';

export interface ServeTokenRecord {
  name: string;
  role: TokenRole;
  createdAt: string;
  /** Set once revoked; a revoked token is refused. */
  revokedAt?: string;
}

export interface StateStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, for messages, without a password. */
  readonly label: string;
  startRun(r: Omit<RunRecord, 'startedAt' | 'outcome'>): Promise<RunRecord>;
  finishRun(id: string, outcome: RunOutcome): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** The newest run of the environment that did not finish (for `rollout --resume`). */
  unfinishedRun(env: string): Promise<RunRecord | undefined>;
  setNodeState(s: Omit<NodeStateRecord, 'updatedAt'>): Promise<void>;
  nodeStates(runId: string): Promise<NodeStateRecord[]>;
  recordStep(t: Omit<StepTiming, 'at'>): Promise<void>;
  /** The facts a node reported, with their digest; kept per run. */
  recordFacts(f: {
    runId?: string;
    deployment: string;
    node: string;
    facts: unknown;
  }): Promise<void>;
  /** The plan a deployment ran, keyed as a gate compares it; `passed` once it validated. */
  recordDeploymentPlan(p: {
    runId: string;
    env: string;
    deployment: string;
    key: PlanKey;
    outcome: 'running' | 'passed' | 'failed' | 'rolled-back';
  }): Promise<void>;
  /** The plan keys that completed and passed validation in an environment. */
  passedPlanKeys(env: string): Promise<PlanKey[]>;
  /** Appends to the audit log; entries are never changed or removed. */
  audit(e: AuditEntry): Promise<AuditEntry>;
  /** Audit entries, oldest first; with `limit`, the newest `limit` of those that match. */
  listAudit(f?: {
    runId?: string;
    env?: string;
    deployment?: string;
    since?: string;
    /** Only entries with a greater id: what a live view has not seen yet. */
    afterId?: number;
    limit?: number;
  }): Promise<AuditEntry[]>;
  /** Claims a deployment for this controller, or undefined when another controller holds it. */
  claim(deploymentKey: string, controller: string): Promise<Claim | undefined>;
  /*
   * Readers added with the implementation; optional so that in-memory fakes of the contract need
   * not grow them. The store openStateStore returns has every one.
   */
  /** Runs, newest first, optionally of one environment; at most `limit` (default 100). */
  listRuns?(f?: { env?: string; limit?: number }): Promise<RunRecord[]>;
  /** The claims table, with whether each claim is still held. */
  listClaims?(): Promise<ClaimRecord[]>;
  /** A run's step timings, in the order they were recorded. */
  stepTimings?(runId: string): Promise<StepTiming[]>;
  /**
   * Every run's step timings whose step name begins with `prefix`, oldest first (learned
   * estimates name a hop's steps `hop <from> → <to> <step>`; docs/estimates.md).
   */
  stepTimingsByPrefix?(prefix: string): Promise<StepTiming[]>;
  /** The facts snapshots recorded for one run, oldest first. */
  runFacts?(runId: string): Promise<FactsSnapshot[]>;
  /** The newest facts snapshot of one node. */
  lastFacts?(deployment: string, node: string): Promise<FactsSnapshot | undefined>;
  /** Records a node's last check (`uplift check --env`). */
  recordCheck?(c: Omit<NodeCheckRecord, 'at'>): Promise<void>;
  /** A node's newest check record. */
  lastCheck?(env: string, deployment: string, node: string): Promise<NodeCheckRecord | undefined>;
  /** Every node's newest check record in one environment (one query, for the fleet view). */
  lastChecks?(env: string): Promise<NodeCheckRecord[]>;
  /** When each node of these deployments was last surveyed (its newest facts snapshot), in one query. */
  lastSurveys?(deployments: string[]): Promise<{ deployment: string; node: string; at: string }[]>;
  /**
   * Stores a token by its hash (sha256 hex): the token is never stored. False when the name is
   * taken (revoked names stay taken, so the audit's actor names keep one meaning).
   */
  createToken?(t: { name: string; role: TokenRole; hash: string }): Promise<boolean>;
  /** Every token, revoked ones too, by name; no hashes. */
  listTokens?(): Promise<ServeTokenRecord[]>;
  /** Revokes a token by name; false when there is no live token of that name. */
  revokeToken?(name: string): Promise<boolean>;
  /** The live (not revoked) token with this hash. */
  tokenByHash?(hash: string): Promise<ServeTokenRecord | undefined>;
  /** Releases the claims this store still holds, then closes its connections. */
  close(): Promise<void>;
}
