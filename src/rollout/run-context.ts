/**
 * What the rollout executor's parts share (run-rollout.ts, restore-deployment.ts and
 * resume-rollout.ts): a run and its records, node commands and their outcome, one recorded
 * action, a bounded pool, and the finish of a run.
 */
import type { Balancer } from '../balancer/types.ts';
import { UpliftError } from '../errors/index.ts';
import type { NodeStateName } from '../state/types.ts';
import type { Deployment, Environment, TopologyNode } from '../topology/types.ts';
import { type NodeTarget, nodeCommands, nodeError, parseStatus } from './node-commands.ts';
import { nodeKey } from './plan-rollout.ts';
import { defaultPendingAuditFile, Recorder } from './recorder.ts';
import type {
  AgentResult,
  DeploymentOutcome,
  DeploymentResult,
  DeploymentRolloutPlan,
  NodeStatus,
  RolloutAgent,
  RolloutContext,
  RolloutEvent,
  RolloutOutcome,
  RolloutResult,
} from './types.ts';

/** Seconds a node command may run past its own timeout before the executor stops waiting. */
export const graceMs = 10_000;

/** Status, stop and start: bounded well below an upgrade's timeout. */
export const shortCommandMs = 15 * 60_000;

export type Shared = Omit<RolloutContext, 'plans' | 'gate' | 'planKeys'> & {
  planKeys?: RolloutContext['planKeys'];
};

/** What one node action came to. */
export type Outcome = { ok: true; version?: string } | { ok: false; code: string; message: string };

/** One run: its id, records and the agents it opened. */
export class Run {
  readonly ctx: Shared;
  readonly rec: Recorder;
  readonly runId: string;
  readonly #agents = new Map<string, Promise<RolloutAgent>>();
  readonly #balancers = new Map<string, Promise<Balancer>>();

  constructor(ctx: Shared, rec: Recorder, runId: string) {
    this.ctx = ctx;
    this.rec = rec;
    this.runId = runId;
  }

  get env(): string {
    return this.ctx.env.name;
  }

  get aborted(): boolean {
    return this.ctx.signal?.aborted === true;
  }

  emit(e: RolloutEvent): void {
    this.ctx.onEvent?.(e);
  }

  audit(
    action: string,
    outcome: 'started' | 'ok' | 'failed' | 'refused',
    where: { deployment?: string; node?: string } = {},
    detail?: Record<string, unknown>,
  ): Promise<void> {
    return this.rec.audit({
      actor: this.ctx.actor,
      controller: this.ctx.controller,
      runId: this.runId,
      env: this.env,
      ...where,
      action,
      outcome,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  target(d: Deployment, node: TopologyNode): Promise<NodeTarget> {
    const k = nodeKey(d.name, node.name);
    let a = this.#agents.get(k);
    if (a === undefined) {
      a = this.ctx.agentFor(d.name, node.name);
      this.#agents.set(k, a);
    }
    return a.then((agent) => ({ install: node.address.path, agent }));
  }

  balancer(d: Deployment): Promise<Balancer> {
    let b = this.#balancers.get(d.name);
    if (b === undefined) {
      b = this.ctx.balancerFor(d.name);
      this.#balancers.set(d.name, b);
    }
    return b;
  }

  sleep(ms: number): Promise<void> {
    if (this.ctx.sleep) return this.ctx.sleep(ms);
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.ctx.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** A node command, bounded by its timeout (the agent's, and ours a little later). */
export async function call(t: NodeTarget, args: string[], timeoutMs: number): Promise<AgentResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UpliftError(
            'UPLIFT_ROLLOUT_NODE_TIMEOUT',
            `${t.agent.label}: uplift ${args[0]} did not end within ${Math.round(timeoutMs / 1000)} s`,
          ),
        ),
      timeoutMs + graceMs,
    );
  });
  try {
    return await Promise.race([t.agent.run(args, { timeoutMs }), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function failure(e: unknown, label: string): Outcome {
  const code =
    typeof (e as { code?: unknown })?.code === 'string' &&
    String((e as { code: string }).code).startsWith('UPLIFT_')
      ? (e as { code: string }).code
      : 'UPLIFT_ROLLOUT_NODE_FAILED';
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, code, message: `${label}: ${message}` };
}

export async function command(
  t: NodeTarget,
  args: string[],
  timeoutMs: number,
  /** Given the command's JSON when it succeeded; what it throws is a failure of the command. */
  onJson?: (json: unknown) => Promise<void>,
): Promise<Outcome> {
  try {
    const r = await call(t, args, timeoutMs);
    const err = nodeError(r);
    if (err) return { ok: false, ...err, message: `${t.agent.label}: ${err.message}` };
    await onJson?.(r.json);
    return { ok: true };
  } catch (e) {
    return failure(e, t.agent.label);
  }
}

export async function statusOf(t: NodeTarget): Promise<NodeStatus | undefined> {
  try {
    return parseStatus(await call(t, nodeCommands.status(t), shortCommandMs));
  } catch {
    return undefined;
  }
}

/** How often resume reads a node again while a live run holds its lock. */
export const lockPollMs = 500;

/**
 * The node's status once no live run holds its lock (or after `timeoutMs`). A controller killed
 * mid-step leaves its node command running as an orphan (an apply, a start) until it ends or dies
 * on its closed output: resume waits for it rather than planning from a node that is still
 * changing, and then sees its end (done, or interrupted for `uplift resume`).
 */
export async function unlocked(
  run: Run,
  t: NodeTarget,
  timeoutMs: number,
): Promise<NodeStatus | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await statusOf(t);
    if (s?.lock !== true || Date.now() >= end || run.aborted) return s;
    await run.sleep(lockPollMs);
  }
}

export const deploymentOf = (env: Environment, name: string): Deployment => {
  const d = env.deployments.find((x) => x.name === name);
  /* v8 ignore next -- unreachable: plans are made from the same environment */
  if (d === undefined) throw new Error(`no deployment ${name} in ${env.name}`);
  return d;
};

export const nodeOf = (d: Deployment, name: string): TopologyNode => {
  const n = d.nodes.find((x) => x.name === name);
  /* v8 ignore next -- unreachable: steps name the deployment's nodes */
  if (n === undefined) throw new Error(`no node ${name} in ${d.name}`);
  return n;
};

export const serverOf = (n: TopologyNode) => n.balancerServer ?? n.name;

/** What the executor keeps about one deployment while it runs it. */
export interface DeploymentRun {
  d: Deployment;
  plan: DeploymentRolloutPlan;
  /** Each node as it was before the run: what the failure policy restores. */
  baseline: Record<string, NodeStatus>;
  /** Nodes upgraded in this run, in the order they were. */
  upgraded: string[];
  /** active/passive: each server's admin state before the run. */
  balancerBefore: Map<string, 'ready' | 'drain' | 'maint'>;
}

/**
 * One action on one node, recorded before and after: audit, node state, step timing, event.
 */
export async function act(
  run: Run,
  dr: DeploymentRun,
  node: string,
  step: string,
  action: string,
  states: { before?: NodeStateName; after?: NodeStateName },
  f: () => Promise<Outcome>,
  detail: Record<string, unknown> = {},
): Promise<Outcome> {
  const where = { deployment: dr.d.name, node };
  const fromVersion = dr.baseline[node]?.version || undefined;
  const state = (s: NodeStateName) =>
    run.rec.nodeState({
      runId: run.runId,
      deployment: dr.d.name,
      node,
      state: s,
      ...(fromVersion === undefined ? {} : { fromVersion }),
      toVersion: dr.plan.to,
    });
  await run.audit(action, 'started', where, detail);
  if (states.before) await state(states.before);
  run.emit({ type: 'node', env: run.env, deployment: dr.d.name, node, step, state: 'started' });
  const t0 = performance.now();
  const r = await f();
  const seconds = Math.round((performance.now() - t0) / 10) / 100;
  await run.rec.step({ runId: run.runId, deployment: dr.d.name, node, step, seconds });
  if (r.ok) {
    await run.audit(action, 'ok', where, { ...detail, seconds, version: r.version });
    if (states.after) await state(states.after);
  } else {
    await run.audit(action, 'failed', where, {
      ...detail,
      seconds,
      code: r.code,
      error: r.message,
    });
    await state('failed');
  }
  run.emit({
    type: 'node',
    env: run.env,
    deployment: dr.d.name,
    node,
    step,
    state: r.ok ? 'ok' : 'failed',
    seconds,
    ...(r.ok && r.version !== undefined ? { version: r.version } : {}),
    ...(r.ok ? {} : { code: r.code }),
  });
  return r;
}

/**
 * Runs `f` over `nodes` in order, `parallel` at once. After a failure (when `stopOnFailure`) or an
 * abort no further node is started; those running finish. Returns the failed and the not-run nodes.
 */
export async function pool(
  run: Run,
  nodes: string[],
  parallel: number,
  stopOnFailure: boolean,
  f: (n: string) => Promise<Outcome>,
): Promise<{ failed: Map<string, Outcome>; notRun: string[] }> {
  const failed = new Map<string, Outcome>();
  const notRun: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const n = nodes[next++] as string;
      if (run.aborted || (stopOnFailure && failed.size > 0)) {
        notRun.push(n);
        continue;
      }
      const r = await f(n);
      if (!r.ok) failed.set(n, r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, nodes.length)) }, worker));
  return { failed, notRun };
}

/** Streaming: an edge starts only beside running backends of its own version. */
export async function edgeMayStart(
  run: Run,
  dr: DeploymentRun,
  edge: TopologyNode,
): Promise<Outcome> {
  const own = await statusOf(await run.target(dr.d, edge));
  if (own === undefined)
    return { ok: false, code: 'UPLIFT_ROLLOUT_NODE_FAILED', message: `${edge.name}: no status` };
  const backends = dr.d.nodes.filter((n) => n.role === 'backend');
  const states = await Promise.all(
    backends.map(async (b) => ({ b, s: await statusOf(await run.target(dr.d, b)) })),
  );
  const runningOther = states.filter(({ s }) => s?.running !== false && s?.version !== own.version);
  if (runningOther.length > 0 || !states.some(({ s }) => s?.running === true))
    return {
      ok: false,
      code: 'UPLIFT_ROLLOUT_MIXED_VERSIONS',
      message:
        runningOther.length > 0
          ? `edge ${edge.name} (${own.version}) not started: backend ${runningOther
              .map(({ b, s }) => `${b.name} runs ${s?.version ?? 'an unknown version'}`)
              .join(', ')}`
          : `edge ${edge.name} not started: no backend runs`,
    };
  return { ok: true };
}

export function balancerAction(
  run: Run,
  dr: DeploymentRun,
  n: TopologyNode,
  what: 'drain' | 'enable',
  f: () => Promise<void>,
  detail: Record<string, unknown> = {},
): Promise<Outcome> {
  return act(
    run,
    dr,
    n.name,
    what,
    `balancer.${what}`,
    {},
    async () => {
      try {
        await f();
        return { ok: true };
      } catch (e) {
        return failure(e, n.name);
      }
    },
    detail,
  );
}

export function runOutcome(results: DeploymentResult[]): RolloutOutcome {
  const has = (o: DeploymentOutcome) => results.some((r) => r.outcome === o);
  if (has('interrupted')) return 'interrupted';
  if (has('failed')) return 'failed';
  if (has('rolled-back')) return 'rolled-back';
  return 'passed';
}

export async function finish(run: Run, results: DeploymentResult[]): Promise<RolloutResult> {
  const outcome = runOutcome(results);
  // The audit first: a controller killed between the two leaves the run open, and the resume
  // closes it; the other way round, a closed run could lack its finish in the audit.
  await run.audit('rollout.finish', outcome === 'passed' ? 'ok' : 'failed', {}, { outcome });
  await run.rec.try((s) => s.finishRun(run.runId, outcome));
  run.emit({ type: 'run', env: run.env, runId: run.runId, outcome });
  return { runId: run.runId, outcome, deployments: results, storeReachable: run.rec.reachable };
}

/** Deployments after a failure or an interruption are not started. */
export function stops(r: DeploymentResult): boolean {
  return r.outcome !== 'passed' && r.outcome !== 'claimed';
}

export async function openRecorder(ctx: Shared): Promise<Recorder> {
  const rec = new Recorder(ctx.store, ctx.pendingAuditFile ?? defaultPendingAuditFile);
  if (rec.reachable) await rec.flushPending();
  return rec;
}
