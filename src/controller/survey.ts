import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { type UpliftCode, UpliftError } from '../errors/index.ts';
import { loadProfile, profileDigest } from '../profile/index.ts';
import {
  type NodeEstimate,
  type NodeKey,
  type NodeStatus,
  nodeCommands,
  nodeError,
  nodeKey,
  parseStatus,
} from '../rollout/index.ts';
import type { PlanKey, StateStore } from '../state/index.ts';
import type { Deployment } from '../topology/index.ts';
import { type Connection, passedEnv } from './connect.ts';

/** What a node's `uplift plan --json` says that a rollout needs. */
export interface NodePlan {
  from: string;
  /** The resolved target (`latest` resolved). */
  to: string;
  verdict: string;
  /** The versions each step reaches, in order. */
  path: string[];
  /** The pack file of each pack step, in order. */
  packs: string[];
  estimate: NodeEstimate;
}

/** A node as the controller found it: its status and plan, or why it could not be read. */
export interface NodeSurvey {
  deployment: string;
  node: string;
  status?: NodeStatus;
  plan?: NodePlan;
  error?: { code: string; message: string };
}

export interface DeploymentSurvey {
  deployment: string;
  /** The resolved target version. */
  to: string;
  key: PlanKey;
  /** The pack files of the plan, in path order (what SSH nodes are sent). */
  packs: string[];
}

export interface Survey {
  nodes: NodeSurvey[];
  status: Map<NodeKey, NodeStatus>;
  estimates: Map<NodeKey, NodeEstimate>;
  deployments: DeploymentSurvey[];
  targets: Record<string, string>;
  planKeys: Record<string, PlanKey>;
}

/** Node commands run at once across the fleet while surveying. */
export const surveyConcurrency = 8;
const surveyTimeoutMs = 5 * 60_000;

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `fn` over `items`, at most `limit` at once, results in order; never rejects on one item's error. */
export async function eachLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const codeOf = (e: unknown) =>
  typeof (e as { code?: unknown })?.code === 'string' &&
  String((e as { code: string }).code).startsWith('UPLIFT_')
    ? (e as { code: string }).code
    : 'UPLIFT_ROLLOUT_NODE_UNREACHABLE';

/** A node's `service status`, or the coded reason it could not be read (never throws). */
export async function nodeStatus(
  conn: Connection,
  d: Deployment,
  node: string,
): Promise<{ status?: NodeStatus; error?: { code: string; message: string } }> {
  try {
    const agent = await conn.agentFor(d.name, node);
    const install = (d.nodes.find((n) => n.name === node) as Deployment['nodes'][number]).address
      .path;
    const r = await agent.run(nodeCommands.status({ install, agent }), {
      timeoutMs: surveyTimeoutMs,
    });
    const status = parseStatus(r);
    if (status !== undefined) return { status };
    return { error: nodeError(r) ?? { code: 'UPLIFT_ROLLOUT_NODE_FAILED', message: 'no status' } };
  } catch (e) {
    return { error: { code: codeOf(e), message: e instanceof Error ? e.message : String(e) } };
  }
}

/** Reads a plan document's parts a rollout uses. */
function readPlan(json: unknown): NodePlan | undefined {
  const p = json as {
    from?: unknown;
    target?: { resolved?: unknown };
    to?: unknown;
    verdict?: unknown;
    steps?: {
      to?: string | null;
      pack?: { file?: string } | null;
      estimate?: { phases?: Record<string, number> };
    }[];
  };
  if (p === undefined || p === null || !Array.isArray(p.steps)) return undefined;
  const to = typeof p.target?.resolved === 'string' ? p.target.resolved : p.to;
  if (typeof to !== 'string' || typeof p.from !== 'string') return undefined;
  const phases = p.steps.map((s) => s.estimate?.phases ?? {});
  const sum = (k: string, from = 0, until = phases.length) =>
    phases.slice(from, until).reduce((a, ph) => a + (ph[k] ?? 0), 0);
  const n = phases.length;
  return {
    from: p.from,
    to,
    verdict: String(p.verdict),
    path: p.steps.map((s) => s.to ?? '(removed)'),
    packs: p.steps.flatMap((s) => (s.pack?.file ? [s.pack.file] : [])),
    estimate:
      n === 0
        ? { stopSeconds: 0, upgradeSeconds: 0, startSeconds: 0 }
        : {
            stopSeconds: phases[0]?.stop ?? 0,
            // On a stopped node: every hop's switch, migrations and manual work, and the starts
            // and stops between hops.
            upgradeSeconds:
              sum('apply') +
              sum('migrate') +
              sum('manual') +
              sum('stop', 1) +
              sum('start', 0, n - 1),
            startSeconds: phases[n - 1]?.start ?? 0,
          },
  };
}

/**
 * The arguments of `uplift VERB` run on a node against its deployment's target: the installation,
 * the profile the agent carries, the target version and channel.
 */
export function nodeTargetArgs(
  verb: string,
  d: Deployment,
  install: string,
  profileArg: string,
): string[] {
  return [
    verb,
    '--install',
    install,
    '--profile',
    profileArg,
    '--to',
    d.to,
    ...(d.channel === undefined ? [] : ['--channel', d.channel]),
  ];
}

/** A node's `uplift plan --json` to the deployment's target, run on the node. */
async function nodePlan(
  conn: Connection,
  d: Deployment,
  node: string,
): Promise<{ plan?: NodePlan; error?: { code: string; message: string } }> {
  try {
    const agent = await conn.nodeAgentFor(d.name, node);
    const install = (d.nodes.find((n) => n.name === node) as Deployment['nodes'][number]).address
      .path;
    const r = await agent.run([...nodeTargetArgs('plan', d, install, agent.profileArg), '--json'], {
      timeoutMs: surveyTimeoutMs,
    });
    const err = nodeError(r);
    if (err !== undefined) return { error: err };
    const plan = readPlan(r.json);
    return plan
      ? { plan }
      : { error: { code: 'UPLIFT_ROLLOUT_NODE_FAILED', message: 'uplift plan printed no plan' } };
  } catch (e) {
    return { error: { code: codeOf(e), message: e instanceof Error ? e.message : String(e) } };
  }
}

/**
 * Every node of the deployments, read through its agent (at most `surveyConcurrency` at once):
 * its `service status` and its own plan to the deployment's target (facts are the node's, so the
 * plan is made where they are). From them: each deployment's resolved target, its plan key (the
 * topology's profile, the profile folder's digest, the path and the digests of the pack files
 * the plan names, as they are in the deployment's packs folder) and each node's estimates.
 * With `needPlans`, a node whose plan fails or is blocked refuses the whole (nothing changed).
 */
export async function survey(
  conn: Connection,
  deployments: Deployment[],
  o: { needPlans: boolean; store?: StateStore; runId?: string },
): Promise<Survey> {
  // A variable passEnv names but this controller lacks refuses the run before any node is reached.
  for (const d of deployments) passedEnv(d);
  const work = deployments.flatMap((d) => d.nodes.map((n) => ({ d, node: n.name })));
  const nodes = await eachLimit(work, surveyConcurrency, async ({ d, node }) => {
    const s = await nodeStatus(conn, d, node);
    if (s.error) return { deployment: d.name, node, error: s.error } satisfies NodeSurvey;
    const p = await nodePlan(conn, d, node);
    return { deployment: d.name, node, ...s, ...p } satisfies NodeSurvey;
  });
  const status = new Map<NodeKey, NodeStatus>();
  const estimates = new Map<NodeKey, NodeEstimate>();
  for (const n of nodes) {
    if (n.status) status.set(nodeKey(n.deployment, n.node), n.status);
    if (n.plan) estimates.set(nodeKey(n.deployment, n.node), n.plan.estimate);
  }
  if (o.needPlans) refuseUnready(nodes);
  const out: DeploymentSurvey[] = [];
  for (const d of deployments) {
    const plans = nodes.filter((n) => n.deployment === d.name && n.plan).map((n) => n.plan);
    const first = (plans.find((p) => p && p.path.length > 0) ?? plans[0]) as NodePlan | undefined;
    const to = first?.to ?? d.to;
    const profile = await loadProfile(d.profile);
    const packs = first?.packs ?? [];
    const packDigests: string[] = [];
    for (const f of packs) {
      const file = d.packs === undefined ? undefined : join(d.packs, f);
      packDigests.push(
        file !== undefined && existsSync(file) ? `sha256:${await hashFile(file)}` : `missing:${f}`,
      );
    }
    out.push({
      deployment: d.name,
      to,
      packs,
      key: {
        profile: d.profile,
        profileDigest: await profileDigest(profile),
        path: first && first.path.length > 0 ? [first.from, ...first.path] : [],
        packDigests,
      },
    });
  }
  if (o.store !== undefined)
    for (const n of nodes)
      await o.store
        .recordFacts({
          ...(o.runId === undefined ? {} : { runId: o.runId }),
          deployment: n.deployment,
          node: n.node,
          facts: { status: n.status ?? null, plan: n.plan ?? null, error: n.error ?? null },
        })
        .catch(() => {});
  return {
    nodes,
    status,
    estimates,
    deployments: out,
    targets: Object.fromEntries(out.map((s) => [s.deployment, s.to])),
    planKeys: Object.fromEntries(out.map((s) => [s.deployment, s.key])),
  };
}

const hostKeyRefusals = new Set(['UPLIFT_SSH_HOST_KEY_CHANGED', 'UPLIFT_SSH_HOST_UNKNOWN']);

/** Refuses before anything changes: a node that did not answer, or whose plan fails or is blocked. */
function refuseUnready(nodes: NodeSurvey[]): void {
  const down = nodes.filter((n) => n.error !== undefined && n.status === undefined);
  if (down.length > 0) {
    // A host whose key is not the one trusted is a refusal of its own (exit 3), not an outage:
    // its code is the error's, so scripts and operators see what to verify.
    const refusedKey = down.find((n) => hostKeyRefusals.has(n.error?.code ?? ''))?.error?.code;
    throw new UpliftError(
      (refusedKey as UpliftCode | undefined) ?? 'UPLIFT_ROLLOUT_NODE_UNREACHABLE',
      `${down.length} node(s) did not report their status:\n${down
        .map((n) => `  ${n.deployment}/${n.node}: ${n.error?.code} ${n.error?.message}`)
        .join('\n')}`,
      {
        hint:
          refusedKey === undefined
            ? 'make the nodes reachable (fleet shows each one), or leave their deployment out with --deployment'
            : "verify the node's host key out of band, then pin the new key (hostKey or knownHosts) in the topology",
        unchanged: true,
      },
    );
  }
  const refused = nodes.filter(
    (n) => n.error !== undefined || (n.plan !== undefined && n.plan.verdict === 'blocked'),
  );
  if (refused.length > 0)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_PLAN_REFUSED',
      `the plan of ${refused.length} node(s) refuses the upgrade:\n${refused
        .map(
          (n) =>
            `  ${n.deployment}/${n.node}: ${n.error ? `${n.error.code} ${n.error.message}` : 'verdict blocked'}`,
        )
        .join('\n')}`,
      {
        hint: 'see why with plan on that node, fix it, then roll out again',
        unchanged: true,
      },
    );
}
