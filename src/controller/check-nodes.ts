import type { CheckReport, CheckStage, CheckStatus } from '../checks/index.ts';
import { nodeError } from '../rollout/index.ts';
import { type NodeCheckRecord, openStateStore, type StateStore } from '../state/index.ts';
import {
  type Deployment,
  type Environment,
  formatAddress,
  type TopologyNode,
} from '../topology/index.ts';
import { mapLimit } from '../util/index.ts';
import { type Connection, connect } from './connect.ts';
import { nodeTargetArgs } from './survey.ts';

/**
 * `uplift check --env E` without its rendering: every node of some deployments through its agent,
 * several at once: can the controller reach it, can its Node run uplift, and the node's own
 * pre-upgrade checks to its deployment's target. A node that fails is a result, not an abort.
 * Each node's outcome is kept in the state store as its last check (`uplift fleet`).
 */
export interface CheckNodesOptions {
  /** Nodes checked at once. */
  concurrency: number;
  /** `--only` of the node's `uplift check`. */
  only?: string;
  for: CheckStage;
  /** The SQLite state file; without it, the store UPLIFT_DATABASE_URL names (or the default). */
  state?: string;
}

/** One check of a node: the controller's own (`reachable`, `node-runtime`, `agent`) or the node's. */
export interface NodeCheck {
  id: string;
  status: CheckStatus;
  message: string;
  remediation?: string;
  /** The coded error behind a failed check of the controller's or a node check that could not run. */
  code?: string;
}

export interface NodeCheckResult {
  name: string;
  address: string;
  /** The node's worst check. */
  status: 'pass' | 'warn' | 'fail';
  /** The controller's checks, then the node's pre-upgrade checks in the node's order. */
  checks: NodeCheck[];
  /** What the node's own `uplift check` checked; null when it could not run. */
  report: Omit<CheckReport, 'results'> | null;
  /** The node's runtime, when it answered. */
  runtime?: { runtime: string; version: string; platform: string; arch: string; modules: string };
  summary: { pass: number; warn: number; fail: number; skip: number };
}

export interface DeploymentCheckResult {
  name: string;
  type: string;
  profile: string;
  to: string;
  nodes: NodeCheckResult[];
}

const nodeCheckTimeoutMs = 5 * 60_000;
const reachCodes = new Set([
  'UPLIFT_SSH_HOST_UNKNOWN',
  'UPLIFT_SSH_HOST_KEY_CHANGED',
  'UPLIFT_SSH_AUTH',
  'UPLIFT_SSH_CONNECT',
]);

export async function checkNodes(
  env: Environment,
  deployments: Deployment[],
  o: CheckNodesOptions,
): Promise<{ results: DeploymentCheckResult[]; warnings: string[] }> {
  const warnings: string[] = [];
  const conn = connect(env);
  let results: DeploymentCheckResult[];
  try {
    const work = deployments.flatMap((d) => d.nodes.map((node) => ({ d, node })));
    const checked = await mapLimit(work, o.concurrency, ({ d, node }) =>
      checkNode(conn, d, node, o),
    );
    results = deployments.map((d) => ({
      name: d.name,
      type: d.type,
      profile: d.profile,
      to: d.to,
      nodes: checked.filter((_, k) => work[k]?.d === d),
    }));
  } finally {
    await conn.close();
  }
  await recordChecks(env, results, o, warnings);
  return { results, warnings };
}

/** The counts and worst status of a node's checks. */
function summarise(checks: NodeCheck[]): Pick<NodeCheckResult, 'status' | 'summary'> {
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const summary = {
    pass: count('pass'),
    warn: count('warn'),
    fail: count('fail'),
    skip: count('skip'),
  };
  return {
    status: summary.fail > 0 ? 'fail' : summary.warn > 0 ? 'warn' : 'pass',
    summary,
  };
}

function errorParts(e: unknown): { code: string; message: string; hint?: string } {
  const code =
    typeof (e as { code?: unknown })?.code === 'string' &&
    String((e as { code: string }).code).startsWith('UPLIFT_')
      ? (e as { code: string }).code
      : 'UPLIFT_ROLLOUT_NODE_UNREACHABLE';
  const hint = (e as { hint?: unknown })?.hint;
  return {
    code,
    message: e instanceof Error ? e.message : String(e),
    ...(typeof hint === 'string' ? { hint } : {}),
  };
}

/** One node's checks; never rejects (what goes wrong is a failed check of that node). */
async function checkNode(
  conn: Connection,
  d: Deployment,
  node: TopologyNode,
  o: CheckNodesOptions,
): Promise<NodeCheckResult> {
  const local = node.address.kind === 'local';
  const address = formatAddress(node.address);
  const checks: NodeCheck[] = [];
  const notRun = (id: string, why: string): NodeCheck => ({ id, status: 'skip', message: why });
  const done = (
    report: NodeCheckResult['report'] = null,
    runtime?: NodeCheckResult['runtime'],
  ): NodeCheckResult => ({
    name: node.name,
    address,
    ...summarise(checks),
    checks,
    report,
    ...(runtime === undefined ? {} : { runtime }),
  });

  let agent: Awaited<ReturnType<typeof conn.nodeAgentFor>>;
  try {
    agent = await conn.nodeAgentFor(d.name, node.name);
  } catch (e) {
    const err = errorParts(e);
    const failed = (id: string): NodeCheck => ({
      id,
      status: 'fail',
      message: err.message,
      ...(err.hint === undefined ? {} : { remediation: err.hint }),
      code: err.code,
    });
    const reached: NodeCheck = {
      id: 'reachable',
      status: 'pass',
      message: local ? 'a folder on this machine' : `connected to ${address}`,
    };
    if (reachCodes.has(err.code)) {
      checks.push(
        failed('reachable'),
        notRun('node-runtime', 'not checked: the node was not reached'),
      );
    } else if (err.code === 'UPLIFT_NODE_RUNTIME') {
      checks.push(reached, failed('node-runtime'));
    } else {
      checks.push(reached, {
        id: 'node-runtime',
        status: 'skip',
        message: 'not known: uplift could not be set up on the node',
      });
      checks.push(failed('agent'));
    }
    checks.push(notRun('pre-upgrade', 'not run: the node cannot run uplift'));
    return done();
  }

  const rt = agent.runtime;
  const runtime = {
    runtime: rt.runtime,
    version: rt.version,
    platform: rt.platform,
    arch: rt.arch,
    modules: rt.modules,
  };
  checks.push(
    {
      id: 'reachable',
      status: 'pass',
      message: local ? 'a folder on this machine' : `connected to ${agent.label}`,
    },
    {
      id: 'node-runtime',
      status: 'pass',
      message: `${rt.runtime} is Node.js ${rt.version} on ${rt.platform}-${rt.arch} (module ABI ${rt.modules})`,
    },
  );
  try {
    const r = await agent.run(
      [
        ...nodeTargetArgs('check', d, node.address.path, agent.profileArg),
        ...(o.only === undefined ? [] : ['--only', o.only]),
        '--for',
        o.for,
        '--json',
      ],
      { timeoutMs: nodeCheckTimeoutMs },
    );
    const report = r.json as CheckReport | undefined;
    if ((r.code === 0 || r.code === 3) && Array.isArray(report?.results)) {
      const { results, ...rest } = report;
      for (const x of results)
        checks.push({
          id: x.id,
          status: x.status,
          message: x.message,
          ...(x.remediation === undefined ? {} : { remediation: x.remediation }),
        });
      return done(rest, runtime);
    }
    const err = nodeError(r) ?? {
      code: 'UPLIFT_ROLLOUT_NODE_FAILED',
      message: 'uplift check printed no report',
    };
    const hint = (r.json as { error?: { hint?: unknown } } | undefined)?.error?.hint;
    checks.push({
      id: 'pre-upgrade',
      status: 'fail',
      message: `uplift check on the node failed: ${err.message}`,
      ...(typeof hint === 'string' ? { remediation: hint } : {}),
      code: err.code,
    });
  } catch (e) {
    const err = errorParts(e);
    checks.push({
      id: 'pre-upgrade',
      status: 'fail',
      message: `uplift check on the node did not finish: ${err.message}`,
      code: err.code,
    });
  }
  return done(null, runtime);
}

/** Keeps each node's outcome as its last check; a store that cannot be opened is a warning. */
async function recordChecks(
  env: Environment,
  results: DeploymentCheckResult[],
  o: CheckNodesOptions,
  warnings: string[],
): Promise<void> {
  let store: StateStore | undefined;
  try {
    store = await openStateStore(o.state === undefined ? {} : { file: o.state });
    for (const d of results)
      for (const n of d.nodes) {
        const code = n.checks.find((c) => c.status === 'fail' && c.code !== undefined)?.code;
        const record: Omit<NodeCheckRecord, 'at'> = {
          env: env.name,
          deployment: d.name,
          node: n.name,
          status: n.status,
          pass: n.summary.pass,
          warn: n.summary.warn,
          fail: n.summary.fail,
          failed: n.checks.filter((c) => c.status === 'fail').map((c) => c.id),
          ...(code === undefined ? {} : { code }),
        };
        await store.recordCheck?.(record);
      }
  } catch (e) {
    warnings.push(
      `the checks were not recorded in the state store, so fleet does not show them: ${e instanceof Error ? e.message : String(e)}`,
    );
  } finally {
    await store?.close().catch(() => {});
  }
}
