import type { AuditEntry, StateStore } from '../state/index.ts';
import { type Environment, formatAddress } from '../topology/index.ts';
import { connect } from './connect.ts';
import { eachLimit, nodeStatus, surveyConcurrency } from './survey.ts';

export interface FleetNode {
  name: string;
  address: string;
  /** Null when the node was not asked (`live: false`: the store's view only). */
  reachable: boolean | null;
  version: string | null;
  running: boolean | null;
  ready: boolean | null;
  /** An apply on the node waits for `uplift resume`. */
  interrupted: boolean | null;
  error?: { code: string; message: string };
  /** When a rollout's survey last read the node (its newest facts snapshot), from the store. */
  lastSurvey: string | null;
  /** The node's last `uplift check --env`, from the store. */
  lastCheck: {
    at: string;
    status: 'pass' | 'warn' | 'fail';
    pass: number;
    warn: number;
    fail: number;
    failed: string[];
    code?: string;
  } | null;
}

export interface FleetDeployment {
  name: string;
  type: string;
  profile: string;
  to: string;
  versions: string[];
  /** Nodes of the deployment on different versions. */
  drift: boolean;
  nodes: FleetNode[];
}

export interface FleetEnvironment {
  name: string;
  lastRun: { runId: string; at: string; outcome: string; actor: string } | null;
  deployments: FleetDeployment[];
}

/**
 * One environment as `uplift fleet` and `uplift serve` show it: each node's version and state, read
 * through its agent now when `live` (several at once), drift per deployment, each node's last
 * survey and check and the environment's last rollout from the store. Not `live`: the store's view
 * only, no node is contacted (the dashboard's fast path).
 */
export async function readFleetEnvironment(
  env: Environment,
  store: StateStore | undefined,
  o: { live: boolean } = { live: true },
): Promise<FleetEnvironment> {
  const conn = o.live ? connect(env) : undefined;
  try {
    const work = env.deployments.flatMap((d) => d.nodes.map((n) => ({ d, n })));
    // The store's view in two queries, whatever the number of nodes (the dashboard reads it often).
    const key = (deployment: string, node: string) => `${deployment}\u0000${node}`;
    const surveyed = new Map(
      (
        (await store?.lastSurveys?.(env.deployments.map((d) => d.name)).catch(() => undefined)) ??
        []
      ).map((r) => [key(r.deployment, r.node), r.at]),
    );
    const checks = new Map(
      ((await store?.lastChecks?.(env.name).catch(() => undefined)) ?? []).map((c) => [
        key(c.deployment, c.node),
        c,
      ]),
    );
    const read = await eachLimit(work, surveyConcurrency, async ({ d, n }) => {
      const s = conn ? await nodeStatus(conn, d, n.name) : undefined;
      const lastSurvey = surveyed.get(key(d.name, n.name));
      const check = checks.get(key(d.name, n.name));
      const node: FleetNode = {
        name: n.name,
        address: formatAddress(n.address),
        reachable: s === undefined ? null : s.status !== undefined,
        version: s?.status ? s.status.version || null : null,
        running: s?.status?.running ?? null,
        ready: s?.status ? s.status.ready === true : null,
        interrupted: s?.status ? s.status.interrupted === true : null,
        ...(s?.error ? { error: s.error } : {}),
        lastSurvey: lastSurvey ?? null,
        lastCheck:
          check === undefined
            ? null
            : {
                at: check.at ?? '',
                status: check.status,
                pass: check.pass,
                warn: check.warn,
                fail: check.fail,
                failed: check.failed,
                ...(check.code === undefined ? {} : { code: check.code }),
              },
      };
      return { d: d.name, node };
    });
    const deployments = env.deployments.map((d): FleetDeployment => {
      const nodes = read.filter((r) => r.d === d.name).map((r) => r.node);
      const versions = [...new Set(nodes.flatMap((n) => (n.version ? [n.version] : [])))].sort();
      return {
        name: d.name,
        type: d.type,
        profile: d.profile,
        to: d.to,
        versions,
        drift: versions.length > 1,
        nodes,
      };
    });
    return { name: env.name, lastRun: await lastRun(env.name, store), deployments };
  } finally {
    await conn?.close();
  }
}

/** The environment's newest rollout from the audit: its finish (outcome), else its start (running). */
async function lastRun(
  env: string,
  store: StateStore | undefined,
): Promise<FleetEnvironment['lastRun']> {
  if (store === undefined) return null;
  const entries: AuditEntry[] = await store.listAudit({ env, limit: 200 }).catch(() => []);
  const rollouts = entries.filter(
    (e) => e.action === 'rollout.start' || e.action === 'rollout.finish',
  );
  const last = rollouts.at(-1);
  if (last === undefined || last.runId === undefined) return null;
  const finish = rollouts.find((e) => e.runId === last.runId && e.action === 'rollout.finish');
  const outcome = finish ? String(finish.detail?.outcome ?? finish.outcome) : 'unfinished';
  return { runId: last.runId, at: (finish ?? last).at ?? '', outcome, actor: last.actor };
}
