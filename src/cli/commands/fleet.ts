import {
  connect,
  eachLimit,
  environmentOf,
  nodeStatus,
  surveyConcurrency,
} from '../../controller/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { type AuditEntry, openStateStore, type StateStore } from '../../state/index.ts';
import { type Environment, formatAddress, openTopology } from '../../topology/index.ts';
import type { CommandResult } from '../types.ts';

export interface FleetOptions {
  env?: string;
  topology?: string;
  inventory?: string;
  state?: string;
}

interface FleetNode {
  name: string;
  address: string;
  reachable: boolean;
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

interface FleetDeployment {
  name: string;
  type: string;
  profile: string;
  to: string;
  versions: string[];
  /** Nodes of the deployment on different versions. */
  drift: boolean;
  nodes: FleetNode[];
}

interface FleetEnvironment {
  name: string;
  lastRun: { runId: string; at: string; outcome: string; actor: string } | null;
  deployments: FleetDeployment[];
}

/** `uplift fleet`: what runs where across the topology, read from each node now. */
export async function handler(o: FleetOptions): Promise<CommandResult> {
  const topology = await openTopology({
    ...(o.topology === undefined ? {} : { topology: o.topology }),
    ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
  });
  const envs = o.env === undefined ? topology.environments : [environmentOf(topology, o.env)];
  const warnings: string[] = [];
  const store = await openStateStore(o.state === undefined ? {} : { file: o.state }).catch(
    (e: unknown) => {
      warnings.push(
        `the state store cannot be read, so the last runs are not shown: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    },
  );
  try {
    const out: FleetEnvironment[] = [];
    for (const env of envs) out.push(await environment(env, store));
    return {
      data: { topology: topology.file, environments: out, warnings },
      text: render(out),
      exitCode: ExitCode.ok,
      warnings,
    };
  } finally {
    await store?.close().catch(() => {});
  }
}

async function environment(
  env: Environment,
  store: StateStore | undefined,
): Promise<FleetEnvironment> {
  const conn = connect(env);
  try {
    const work = env.deployments.flatMap((d) => d.nodes.map((n) => ({ d, n })));
    const read = await eachLimit(work, surveyConcurrency, async ({ d, n }) => {
      const s = await nodeStatus(conn, d, n.name);
      const last = await store?.lastFacts?.(d.name, n.name).catch(() => undefined);
      const check = await store?.lastCheck?.(env.name, d.name, n.name).catch(() => undefined);
      const node: FleetNode = {
        name: n.name,
        address: formatAddress(n.address),
        reachable: s.status !== undefined,
        version: s.status ? s.status.version || null : null,
        running: s.status?.running ?? null,
        ready: s.status ? s.status.ready === true : null,
        interrupted: s.status ? s.status.interrupted === true : null,
        ...(s.error ? { error: s.error } : {}),
        lastSurvey: last?.at ?? null,
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
    await conn.close();
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

function render(envs: FleetEnvironment[]): string {
  const lines: string[] = [];
  for (const e of envs) {
    lines.push(
      `${e.name}${e.lastRun ? `  last rollout ${e.lastRun.runId}: ${e.lastRun.outcome} at ${e.lastRun.at} by ${e.lastRun.actor}` : '  no rollout yet'}`,
    );
    for (const d of e.deployments) {
      lines.push(
        `  ${d.name} (${d.type}, ${d.profile} → ${d.to}): ${d.versions.join(', ') || 'version unknown'}${d.drift ? '  DRIFT: nodes on different versions' : ''}`,
      );
      for (const n of d.nodes)
        lines.push(
          n.reachable
            ? `    ${n.name}  ${n.version ?? '(version unreadable)'}  ${n.running ? 'running' : 'stopped'}, ${n.ready ? 'ready' : 'not ready'}${n.interrupted ? ', interrupted: uplift resume needed' : ''}${lastCheckText(n)}  ${n.address}`
            : `    ${n.name}  unreachable: ${n.error?.code} ${n.error?.message ?? ''}${lastCheckText(n)}  ${n.address}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `  last check <when>: passed|warned|failed (ids, code)`, or nothing when the node was never checked. */
function lastCheckText(n: FleetNode): string {
  const c = n.lastCheck;
  if (c === null) return '';
  const outcome = { pass: 'passed', warn: 'warned', fail: 'failed' }[c.status];
  const why =
    c.status === 'fail' ? ` (${[...c.failed, ...(c.code ? [c.code] : [])].join(', ')})` : '';
  return `  last check ${c.at}: ${outcome}${why}`;
}
