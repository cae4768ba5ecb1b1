import { type Kysely, sql } from 'kysely';
import { canonicalJson, sha256 } from '../util/index.ts';
import type { Tables } from './db.ts';
import type { StoreKind } from './migrations/index.ts';
import type {
  AuditEntry,
  Claim,
  ClaimRecord,
  NodeCheckRecord,
  NodeStateName,
  NodeStateRecord,
  PlanKey,
  RunOutcome,
  RunRecord,
  ServeTokenRecord,
  StateStore,
  StepTiming,
  TokenRole,
} from './types.ts';

/** How a store takes and lists claims: the one part that differs between the databases. */
export interface Claims {
  claim(deploymentKey: string, controller: string): Promise<Claim | undefined>;
  list(): Promise<ClaimRecord[]>;
  /** Releases every claim still held, before the store closes. */
  releaseAll(): Promise<void>;
}

const now = () => new Date().toISOString();
const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The store over either database: every query here is written once, for both. */
export class KyselyStateStore implements StateStore {
  readonly kind: StoreKind;
  readonly label: string;
  readonly #db: Kysely<Tables>;
  readonly #claims: Claims;
  #closed = false;

  constructor(o: { kind: StoreKind; label: string; db: Kysely<Tables>; claims: Claims }) {
    this.kind = o.kind;
    this.label = o.label;
    this.#db = o.db;
    this.#claims = o.claims;
  }

  async startRun(r: Omit<RunRecord, 'startedAt' | 'outcome'>): Promise<RunRecord> {
    const run: RunRecord = { ...r, startedAt: now(), outcome: 'running' };
    await this.#db
      .insertInto('runs')
      .values({
        id: run.id,
        env: run.env,
        deployments: JSON.stringify(run.deployments),
        topology_digest: run.topologyDigest,
        controller: run.controller,
        started_at: run.startedAt,
        finished_at: null,
        outcome: run.outcome,
        dry_run: run.dryRun ? 1 : 0,
      })
      .execute();
    return run;
  }

  async finishRun(id: string, outcome: RunOutcome): Promise<void> {
    await this.#db
      .updateTable('runs')
      .set({ outcome, finished_at: now() })
      .where('id', '=', id)
      .execute();
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.#db
      .selectFrom('runs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRun(row);
  }

  async unfinishedRun(env: string): Promise<RunRecord | undefined> {
    const row = await this.#db
      .selectFrom('runs')
      .selectAll()
      .where('env', '=', env)
      .where('outcome', 'in', ['running', 'interrupted'])
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toRun(row);
  }

  async listRuns(f: { env?: string; limit?: number } = {}): Promise<RunRecord[]> {
    let q = this.#db.selectFrom('runs').selectAll();
    if (f.env !== undefined) q = q.where('env', '=', f.env);
    const rows = await q
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit ?? 100)
      .execute();
    return rows.map(toRun);
  }

  async setNodeState(s: Omit<NodeStateRecord, 'updatedAt'>): Promise<void> {
    const values = {
      state: s.state,
      from_version: s.fromVersion ?? null,
      to_version: s.toVersion ?? null,
      updated_at: now(),
    };
    await this.#db
      .insertInto('node_states')
      .values({ run_id: s.runId, deployment: s.deployment, node: s.node, ...values })
      .onConflict((oc) => oc.columns(['run_id', 'deployment', 'node']).doUpdateSet(values))
      .execute();
  }

  async nodeStates(runId: string): Promise<NodeStateRecord[]> {
    const rows = await this.#db
      .selectFrom('node_states')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('deployment')
      .orderBy('node')
      .execute();
    return rows.map((r) => ({
      runId: r.run_id,
      deployment: r.deployment,
      node: r.node,
      state: r.state as NodeStateName,
      fromVersion: orUndefined(r.from_version),
      toVersion: orUndefined(r.to_version),
      updatedAt: r.updated_at,
    }));
  }

  async recordStep(t: Omit<StepTiming, 'at'>): Promise<void> {
    await this.#db
      .insertInto('step_timings')
      .values({
        run_id: t.runId,
        deployment: t.deployment,
        node: t.node,
        step: t.step,
        seconds: t.seconds,
        at: now(),
      })
      .execute();
  }

  async stepTimings(runId: string) {
    const rows = await this.#db
      .selectFrom('step_timings')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
    return rows.map(toStepTiming);
  }

  async stepTimingsByPrefix(prefix: string) {
    const rows = await this.#db
      .selectFrom('step_timings')
      .selectAll()
      // substr, not LIKE: a version may hold `_` or `%`, which LIKE would read as wildcards.
      .where(sql<boolean>`substr(step, 1, ${prefix.length}) = ${prefix}`)
      .orderBy('id')
      .execute();
    return rows.map(toStepTiming);
  }

  async runFacts(runId: string) {
    const rows = await this.#db
      .selectFrom('facts_snapshots')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      runId,
      deployment: row.deployment,
      node: row.node,
      facts: JSON.parse(row.facts) as unknown,
      digest: row.digest,
      at: row.at,
    }));
  }

  async recordFacts(f: {
    runId?: string;
    deployment: string;
    node: string;
    facts: unknown;
  }): Promise<void> {
    const text = canonicalJson(f.facts);
    await this.#db
      .insertInto('facts_snapshots')
      .values({
        run_id: f.runId ?? null,
        deployment: f.deployment,
        node: f.node,
        facts: text,
        digest: sha256(text),
        at: now(),
      })
      .execute();
  }

  async recordCheck(c: Omit<NodeCheckRecord, 'at'>): Promise<void> {
    const { env, deployment, node, status, ...summary } = c;
    await this.#db
      .insertInto('node_checks')
      .values({ env, deployment, node, status, summary: canonicalJson(summary), at: now() })
      .execute();
  }

  async lastCheck(env: string, deployment: string, node: string) {
    const row = await this.#db
      .selectFrom('node_checks')
      .selectAll()
      .where('env', '=', env)
      .where('deployment', '=', deployment)
      .where('node', '=', node)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : checkRecordOf(row);
  }

  async lastChecks(env: string) {
    const newest = this.#db
      .selectFrom('node_checks')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('env', '=', env)
      .groupBy(['deployment', 'node']);
    const rows = await this.#db
      .selectFrom('node_checks')
      .selectAll()
      .where('id', 'in', newest)
      .execute();
    return rows.map((row) => checkRecordOf(row));
  }

  async lastSurveys(deployments: string[]) {
    if (deployments.length === 0) return [];
    const rows = await this.#db
      .selectFrom('facts_snapshots')
      .select((eb) => ['deployment', 'node', eb.fn.max('at').as('at')])
      .where('deployment', 'in', deployments)
      .groupBy(['deployment', 'node'])
      .execute();
    return rows.map((r) => ({ deployment: r.deployment, node: r.node, at: String(r.at) }));
  }

  async lastFacts(deployment: string, node: string) {
    const row = await this.#db
      .selectFrom('facts_snapshots')
      .selectAll()
      .where('deployment', '=', deployment)
      .where('node', '=', node)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return (
      row && {
        runId: orUndefined(row.run_id),
        deployment: row.deployment,
        node: row.node,
        facts: JSON.parse(row.facts) as unknown,
        digest: row.digest,
        at: row.at,
      }
    );
  }

  async recordDeploymentPlan(p: {
    runId: string;
    env: string;
    deployment: string;
    key: PlanKey;
    outcome: 'running' | 'passed' | 'failed' | 'rolled-back';
  }): Promise<void> {
    const planKey = canonicalJson(p.key);
    const values = {
      env: p.env,
      plan_key: planKey,
      key_digest: sha256(planKey),
      outcome: p.outcome,
      updated_at: now(),
    };
    await this.#db
      .insertInto('deployment_plans')
      .values({ run_id: p.runId, deployment: p.deployment, ...values })
      .onConflict((oc) => oc.columns(['run_id', 'deployment']).doUpdateSet(values))
      .execute();
  }

  async passedPlanKeys(env: string): Promise<PlanKey[]> {
    const rows = await this.#db
      .selectFrom('deployment_plans')
      .select(['key_digest', 'plan_key'])
      .where('env', '=', env)
      .where('outcome', '=', 'passed')
      .orderBy('updated_at')
      .execute();
    const byDigest = new Map<string, PlanKey>();
    for (const r of rows)
      if (!byDigest.has(r.key_digest)) byDigest.set(r.key_digest, JSON.parse(r.plan_key));
    return [...byDigest.values()];
  }

  async audit(e: AuditEntry): Promise<AuditEntry> {
    const at = now();
    const row = await this.#db
      .insertInto('audit')
      .values({
        at,
        actor: e.actor,
        controller: e.controller,
        run_id: e.runId ?? null,
        env: e.env ?? null,
        deployment: e.deployment ?? null,
        node: e.node ?? null,
        action: e.action,
        outcome: e.outcome,
        detail: e.detail === undefined ? null : canonicalJson(e.detail),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...e, id: Number(row.id), at };
  }

  async listAudit(
    f: {
      runId?: string;
      env?: string;
      deployment?: string;
      since?: string;
      afterId?: number;
      limit?: number;
    } = {},
  ): Promise<AuditEntry[]> {
    let q = this.#db.selectFrom('audit').selectAll();
    if (f.runId !== undefined) q = q.where('run_id', '=', f.runId);
    if (f.env !== undefined) q = q.where('env', '=', f.env);
    if (f.deployment !== undefined) q = q.where('deployment', '=', f.deployment);
    if (f.since !== undefined) q = q.where('at', '>=', f.since);
    if (f.afterId !== undefined) q = q.where('id', '>', f.afterId);
    // With a limit, the newest entries; always returned oldest first, the order they happened.
    const rows =
      f.limit === undefined
        ? await q.orderBy('id').execute()
        : (await q.orderBy('id', 'desc').limit(f.limit).execute()).reverse();
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor,
      controller: r.controller,
      runId: orUndefined(r.run_id),
      env: orUndefined(r.env),
      deployment: orUndefined(r.deployment),
      node: orUndefined(r.node),
      action: r.action,
      outcome: r.outcome as AuditEntry['outcome'],
      detail: r.detail === null ? undefined : JSON.parse(r.detail),
    }));
  }

  async createToken(t: { name: string; role: TokenRole; hash: string }): Promise<boolean> {
    const rows = await this.#db
      .insertInto('serve_tokens')
      .values({
        name: t.name,
        role: t.role,
        token_hash: t.hash,
        created_at: now(),
        revoked_at: null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('name')
      .execute();
    return rows.length === 1;
  }

  async listTokens(): Promise<ServeTokenRecord[]> {
    const rows = await this.#db.selectFrom('serve_tokens').selectAll().orderBy('name').execute();
    return rows.map(toToken);
  }

  async revokeToken(name: string): Promise<boolean> {
    const r = await this.#db
      .updateTable('serve_tokens')
      .set({ revoked_at: now() })
      .where('name', '=', name)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async tokenByHash(hash: string): Promise<ServeTokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('serve_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row && toToken(row);
  }

  claim(deploymentKey: string, controller: string): Promise<Claim | undefined> {
    return this.#claims.claim(deploymentKey, controller);
  }

  listClaims(): Promise<ClaimRecord[]> {
    return this.#claims.list();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#claims.releaseAll();
    } finally {
      await this.#db.destroy();
    }
  }
}

function toRun(r: Tables['runs']): RunRecord {
  return {
    id: r.id,
    env: r.env,
    deployments: JSON.parse(r.deployments),
    topologyDigest: r.topology_digest,
    controller: r.controller,
    startedAt: r.started_at,
    finishedAt: orUndefined(r.finished_at),
    outcome: r.outcome as RunOutcome,
    dryRun: Number(r.dry_run) === 1,
  };
}

function toToken(r: Tables['serve_tokens']): ServeTokenRecord {
  return {
    name: r.name,
    role: r.role as TokenRole,
    createdAt: r.created_at,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
  };
}

/** A step_timings row as the store's contract gives it (PostgreSQL returns numerics as text). */
function toStepTiming(r: {
  run_id: string;
  deployment: string;
  node: string;
  step: string;
  seconds: number | string;
  at: string;
}): StepTiming {
  return {
    runId: r.run_id,
    deployment: r.deployment,
    node: r.node,
    step: r.step,
    seconds: Number(r.seconds),
    at: r.at,
  };
}

/** A node_checks row as the record it stores. */
function checkRecordOf(row: {
  env: string;
  deployment: string;
  node: string;
  status: string;
  summary: string;
  at: string;
}): NodeCheckRecord {
  const s = JSON.parse(row.summary) as Omit<
    NodeCheckRecord,
    'env' | 'deployment' | 'node' | 'status' | 'at'
  >;
  return {
    env: row.env,
    deployment: row.deployment,
    node: row.node,
    status: row.status as NodeCheckRecord['status'],
    pass: s.pass,
    warn: s.warn,
    fail: s.fail,
    failed: s.failed,
    ...(s.code === undefined ? {} : { code: s.code }),
    at: row.at,
  };
}
