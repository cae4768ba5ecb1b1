import type { Generated } from 'kysely';

/**
 * The tables as kysely sees them. Portable column types only: text (timestamps are ISO 8601 UTC
 * strings, which sort as they read; JSON is canonical JSON text), integer (booleans are 0/1) and
 * double precision, so one query layer serves SQLite and PostgreSQL alike.
 */
export interface Tables {
  runs: {
    id: string;
    env: string;
    /** JSON array of deployment names. */
    deployments: string;
    topology_digest: string;
    controller: string;
    started_at: string;
    finished_at: string | null;
    outcome: string;
    dry_run: number;
  };
  deployment_plans: {
    run_id: string;
    env: string;
    deployment: string;
    /** Canonical JSON of the PlanKey. */
    plan_key: string;
    /** sha256 of plan_key: equal digests are the same upgrade. */
    key_digest: string;
    outcome: string;
    updated_at: string;
  };
  node_states: {
    run_id: string;
    deployment: string;
    node: string;
    state: string;
    from_version: string | null;
    to_version: string | null;
    updated_at: string;
  };
  step_timings: {
    id: Generated<number>;
    run_id: string;
    deployment: string;
    node: string;
    step: string;
    seconds: number;
    at: string;
  };
  facts_snapshots: {
    id: Generated<number>;
    run_id: string | null;
    deployment: string;
    node: string;
    facts: string;
    digest: string;
    at: string;
  };
  audit: {
    id: Generated<number>;
    at: string;
    actor: string;
    controller: string;
    run_id: string | null;
    env: string | null;
    deployment: string | null;
    node: string | null;
    action: string;
    outcome: string;
    detail: string | null;
  };
  claims: {
    deployment_key: string;
    controller: string;
    pid: number;
    hostname: string;
    claimed_at: string;
    heartbeat_at: string;
  };
  node_checks: {
    id: Generated<number>;
    env: string;
    deployment: string;
    node: string;
    /** pass | warn | fail: the node's worst check. */
    status: string;
    /** Canonical JSON of the NodeCheckRecord's counts, failed ids and code. */
    summary: string;
    at: string;
  };
  serve_tokens: {
    name: string;
    /** viewer | operator */
    role: string;
    /** sha256 (hex) of the token; the token itself is never stored. */
    token_hash: string;
    created_at: string;
    revoked_at: string | null;
  };
}
