import type { Balancer } from '../balancer/types.ts';
import { UpliftError } from '../errors/index.ts';
import type { Claim, NodeStateName, StateStore } from '../state/types.ts';
import type { Deployment, Environment, TopologyNode } from '../topology/types.ts';
import { type NodeTarget, nodeCommands, nodeError, parseStatus } from './node-commands.ts';
import { nodeKey, planRollout } from './plan-rollout.ts';
import { defaultPendingAuditFile, Recorder } from './recorder.ts';
import type {
  AgentResult,
  DeploymentOutcome,
  DeploymentResult,
  DeploymentRolloutPlan,
  NodeStatus,
  ResumeContext,
  RolloutAgent,
  RolloutContext,
  RolloutEvent,
  RolloutOutcome,
  RolloutResult,
  RolloutStep,
} from './types.ts';

/** Seconds a node command may run past its own timeout before the executor stops waiting. */
const graceMs = 10_000;
/** Status, stop and start: bounded well below an upgrade's timeout. */
const shortCommandMs = 15 * 60_000;

type Shared = Omit<RolloutContext, 'plans' | 'gate' | 'planKeys'> & {
  planKeys?: RolloutContext['planKeys'];
};

/** What one node action came to. */
type Outcome = { ok: true; version?: string } | { ok: false; code: string; message: string };

/** One run: its id, records and the agents it opened. */
class Run {
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
async function call(t: NodeTarget, args: string[], timeoutMs: number): Promise<AgentResult> {
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

function failure(e: unknown, label: string): Outcome {
  const code =
    typeof (e as { code?: unknown })?.code === 'string' &&
    String((e as { code: string }).code).startsWith('UPLIFT_')
      ? (e as { code: string }).code
      : 'UPLIFT_ROLLOUT_NODE_FAILED';
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, code, message: `${label}: ${message}` };
}

async function command(t: NodeTarget, args: string[], timeoutMs: number): Promise<Outcome> {
  try {
    const r = await call(t, args, timeoutMs);
    const err = nodeError(r);
    return err ? { ok: false, ...err, message: `${t.agent.label}: ${err.message}` } : { ok: true };
  } catch (e) {
    return failure(e, t.agent.label);
  }
}

async function statusOf(t: NodeTarget): Promise<NodeStatus | undefined> {
  try {
    return parseStatus(await call(t, nodeCommands.status(t), shortCommandMs));
  } catch {
    return undefined;
  }
}

/** How often resume reads a node again while a live run holds its lock. */
const lockPollMs = 500;

/**
 * The node's status once no live run holds its lock (or after `timeoutMs`). A controller killed
 * mid-step leaves its node command running as an orphan (an apply, a start) until it ends or dies
 * on its closed output: resume waits for it rather than planning from a node that is still
 * changing, and then sees its end (done, or interrupted for `uplift resume`).
 */
async function unlocked(
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

const deploymentOf = (env: Environment, name: string): Deployment => {
  const d = env.deployments.find((x) => x.name === name);
  /* v8 ignore next -- unreachable: plans are made from the same environment */
  if (d === undefined) throw new Error(`no deployment ${name} in ${env.name}`);
  return d;
};

const nodeOf = (d: Deployment, name: string): TopologyNode => {
  const n = d.nodes.find((x) => x.name === name);
  /* v8 ignore next -- unreachable: steps name the deployment's nodes */
  if (n === undefined) throw new Error(`no node ${name} in ${d.name}`);
  return n;
};

const serverOf = (n: TopologyNode) => n.balancerServer ?? n.name;

/** What the executor keeps about one deployment while it runs it. */
interface DeploymentRun {
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
async function act(
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
async function pool(
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
async function edgeMayStart(run: Run, dr: DeploymentRun, edge: TopologyNode): Promise<Outcome> {
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

/** Runs one step on its nodes. */
async function runStep(
  run: Run,
  dr: DeploymentRun,
  step: RolloutStep,
  tolerant: boolean,
): Promise<{ failed: Map<string, Outcome>; notRun: string[] }> {
  const { d, plan } = dr;
  const parallel = step.parallel ?? 1;
  const timeoutMs = d.nodeTimeoutSeconds * 1000;
  const on = (
    action: string,
    stepName: string,
    states: { before?: NodeStateName; after?: NodeStateName },
    f: (n: TopologyNode, t: NodeTarget) => Promise<Outcome>,
    detail: Record<string, unknown> = {},
  ) =>
    pool(run, step.nodes, parallel, !tolerant, async (name) => {
      const node = nodeOf(d, name);
      return act(
        run,
        dr,
        name,
        stepName,
        action,
        states,
        async () => {
          try {
            return await f(node, await run.target(d, node));
          } catch (e) {
            return failure(e, name);
          }
        },
        detail,
      );
    });
  switch (step.kind) {
    case 'stop':
      return on('node.stop', 'stop', { after: 'stopped' }, (_, t) =>
        command(t, nodeCommands.stop(t), shortCommandMs),
      );
    case 'start':
      return on('node.start', 'start', { after: 'started' }, async (n, t) => {
        if (d.type === 'streaming' && n.role !== 'backend') {
          const may = await edgeMayStart(run, dr, n);
          if (!may.ok) return may;
        }
        return command(t, nodeCommands.start(t), timeoutMs);
      });
    case 'upgrade':
      return on(
        'node.upgrade',
        'upgrade',
        { before: 'upgrading', after: step.leaveStopped ? 'upgraded' : 'validated' },
        async (n, t) => {
          const r = await command(
            t,
            nodeCommands.upgrade(t, plan.to, step.leaveStopped === true),
            timeoutMs,
          );
          if (r.ok) {
            if (!dr.upgraded.includes(n.name)) dr.upgraded.push(n.name);
            return { ok: true, version: plan.to };
          }
          return r;
        },
        { to: plan.to, leaveStopped: step.leaveStopped === true },
      );
    case 'probe':
    case 'gate':
      return on('node.probe', step.kind, { after: 'validated' }, async (n, t) => {
        const s = await statusOf(t);
        if (s?.running === true && s.ready === true && s.version === plan.to)
          return { ok: true, version: s.version };
        return {
          ok: false,
          code: 'UPLIFT_APPLY_PROBE_FAILED',
          message: `${n.name}: ${s === undefined ? 'no status' : `${s.running ? (s.ready ? 'ready' : 'not ready') : 'not running'} at ${s.version}, expected ready at ${plan.to}`}`,
        };
      });
    case 'after-start':
      return on('node.after-start', 'after-start', {}, async (n, t) => {
        const argv = d.afterStart ?? [];
        if (t.agent.exec === undefined)
          return {
            ok: false,
            code: 'UPLIFT_ROLLOUT_NODE_FAILED',
            message: `${n.name}: cannot run commands`,
          };
        const r = await t.agent.exec(argv, { timeoutMs });
        return r.code === 0
          ? { ok: true }
          : {
              ok: false,
              code: 'UPLIFT_ROLLOUT_NODE_FAILED',
              message: `${n.name}: afterStart exit ${r.code}`,
            };
      });
    case 'drain':
    case 'enable':
      return on(`balancer.${step.kind}`, step.kind, {}, async (n) => {
        const b = await run.balancer(d);
        await (step.kind === 'drain' ? b.drain(serverOf(n)) : b.enable(serverOf(n)));
        return { ok: true };
      });
    case 'wait-drained':
      return on(
        'balancer.drain',
        'wait-drained',
        {},
        async (n) => {
          const b = await run.balancer(d);
          const s = d.balancer?.drainTimeoutSeconds ?? 120;
          await b.waitDrained(serverOf(n), s * 1000);
          return { ok: true };
        },
        { wait: true },
      );
    case 'pause':
      run.emit({
        type: 'node',
        env: run.env,
        deployment: d.name,
        node: '',
        step: 'pause',
        state: 'started',
        seconds: step.seconds ?? 0,
      });
      await run.sleep((step.seconds ?? 0) * 1000);
      return { failed: new Map(), notRun: [] };
  }
}

/**
 * The failure policy: every node of the deployment whose version differs from before the run is
 * rolled back (`rollback --whole-run`), in the reverse order of its upgrade, without two versions
 * running where the type forbids it; then the nodes that ran before run again, and the balancer's
 * servers are as they were. Interrupted nodes are taken back first (`resume --abort`).
 */
async function restoreDeployment(
  run: Run,
  dr: DeploymentRun,
  shouldRun: Set<string>,
): Promise<{ notRestored: string[]; tookBack: number }> {
  const { d } = dr;
  let tookBack = 0;
  const byName = (n: string) => nodeOf(d, n);
  const status = new Map<string, NodeStatus | undefined>();
  const refresh = async (names: string[]) => {
    for (const n of names) status.set(n, await statusOf(await run.target(d, byName(n))));
  };
  await refresh(d.nodes.map((n) => n.name));
  for (const n of d.nodes) {
    if (status.get(n.name)?.interrupted !== true) continue;
    const t = await run.target(d, n);
    await act(
      run,
      dr,
      n.name,
      'resume',
      'node.resume',
      { after: 'rolled-back' },
      () => command(t, nodeCommands.resume(t, true), d.nodeTimeoutSeconds * 1000),
      { abort: true },
    );
    tookBack++;
    await refresh([n.name]);
  }
  const changed = (n: string) => {
    const was = dr.baseline[n]?.version;
    const now = status.get(n)?.version;
    return was !== undefined && was !== '' && now !== undefined && now !== was;
  };
  const order = [
    ...[...dr.upgraded].reverse(),
    ...d.nodes
      .map((n) => n.name)
      .reverse()
      .filter((n) => !dr.upgraded.includes(n)),
  ].filter(changed);

  const rollBack = async (n: string) => {
    const t = await run.target(d, byName(n));
    await act(
      run,
      dr,
      n,
      'rollback',
      'node.rollback',
      { before: 'rolling-back', after: 'rolled-back' },
      async () => {
        const r = await command(t, nodeCommands.rollback(t), d.nodeTimeoutSeconds * 1000);
        return r.ok ? { ok: true, version: dr.baseline[n]?.version } : r;
      },
    );
  };
  const stopNew = async (names: string[]) => {
    for (const n of names) {
      if (status.get(n)?.running !== true) continue;
      const t = await run.target(d, byName(n));
      await act(
        run,
        dr,
        n,
        'stop',
        'node.stop',
        { after: 'stopped' },
        () => command(t, nodeCommands.stop(t), shortCommandMs),
        { restore: true },
      );
    }
  };

  if (d.type === 'active-passive') {
    const b = await run.balancer(d);
    const sides = [...new Set(order.map((n) => byName(n).side ?? 'a'))];
    for (const side of sides) {
      const mine = d.nodes.filter((n) => (n.side ?? 'a') === side);
      const others = d.nodes.filter((n) => (n.side ?? 'a') !== side);
      for (const o of others)
        if (status.get(o.name)?.running === true)
          await balancerAction(run, dr, o, 'enable', () => b.enable(serverOf(o)));
      for (const m of mine) await balancerAction(run, dr, m, 'drain', () => b.drain(serverOf(m)));
      const s = (d.balancer?.drainTimeoutSeconds ?? 120) * 1000;
      for (const m of mine)
        await balancerAction(run, dr, m, 'drain', () => b.waitDrained(serverOf(m), s), {
          wait: true,
        });
      for (const n of order) if ((byName(n).side ?? 'a') === side) await rollBack(n);
    }
  } else {
    if (d.type === 'standard-cluster') await stopNew(order);
    if (d.type === 'streaming') {
      const edges = order.filter((n) => byName(n).role !== 'backend');
      await stopNew(edges);
      // A backend goes back only once no edge of the new version runs beside an old backend.
      await stopNew(order.filter((n) => byName(n).role === 'backend'));
    }
    for (const n of order) await rollBack(n);
  }

  await refresh(d.nodes.map((n) => n.name));
  // A node that does not answer may run any version (its apply may go on where the controller
  // cannot see it): where two versions must never run together, nothing is started beside it.
  const unknown = d.nodes.filter((n) => status.get(n.name) === undefined);
  const mayStart =
    unknown.length === 0 || (d.type !== 'standard-cluster' && d.type !== 'streaming');
  const startOrder =
    d.type === 'streaming'
      ? [
          ...d.nodes.filter((n) => n.role === 'backend'),
          ...d.nodes.filter((n) => n.role !== 'backend'),
        ]
      : d.nodes;
  for (const n of mayStart ? startOrder : []) {
    if (!shouldRun.has(n.name) || status.get(n.name)?.running === true) continue;
    const t = await run.target(d, n);
    await act(
      run,
      dr,
      n.name,
      'start',
      'node.start',
      { after: 'started' },
      async () => {
        if (d.type === 'streaming' && n.role !== 'backend') {
          const may = await edgeMayStart(run, dr, n);
          if (!may.ok) return may;
        }
        return command(t, nodeCommands.start(t), d.nodeTimeoutSeconds * 1000);
      },
      { restore: true },
    );
  }
  if (d.type === 'active-passive') {
    const b = await run.balancer(d);
    for (const n of d.nodes) {
      const was =
        dr.balancerBefore.get(serverOf(n)) ?? ((n.side ?? 'a') === 'a' ? 'ready' : 'drain');
      await balancerAction(
        run,
        dr,
        n,
        was === 'ready' ? 'enable' : 'drain',
        () => (was === 'ready' ? b.enable(serverOf(n)) : b.drain(serverOf(n))),
        { restore: true },
      );
    }
  }
  await refresh(d.nodes.map((n) => n.name));
  const notRestored = d.nodes
    .map((n) => n.name)
    .filter(
      (n) =>
        changed(n) ||
        status.get(n) === undefined ||
        (shouldRun.has(n) && status.get(n)?.running !== true),
    );
  return { notRestored, tookBack: tookBack + order.length };
}

function balancerAction(
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

/** active/passive: each server's admin state before the run, for the failure policy to restore. */
async function recordBalancer(run: Run, dr: DeploymentRun): Promise<void> {
  const { d } = dr;
  if (d.type === 'active-passive' && dr.plan.steps.length > 0) {
    try {
      const b = await run.balancer(d);
      for (const n of d.nodes)
        dr.balancerBefore.set(serverOf(n), (await b.state(serverOf(n))).admin);
    } catch {
      // Unknown: the restore falls back to the topology's meaning (a active, b passive).
    }
  }
}

/** Runs one deployment's steps; on a failure applies the failure policy. */
async function runDeployment(
  run: Run,
  dr: DeploymentRun,
  shouldRun: Set<string>,
): Promise<DeploymentResult> {
  const { d, plan } = dr;
  const name = d.name;
  const rollingFailed: string[] = [];
  let batchFailed = new Set<string>();
  for (let i = 0; i < plan.steps.length; i++) {
    const step = plan.steps[i] as RolloutStep;
    if (run.aborted) return { deployment: name, outcome: 'interrupted' };
    const rolling = d.type === 'rolling' && (step.kind === 'upgrade' || step.kind === 'gate');
    const nodes = step.kind === 'gate' ? step.nodes.filter((n) => !batchFailed.has(n)) : step.nodes;
    const r = await runStep(run, dr, { ...step, nodes }, rolling);
    if (run.aborted) return { deployment: name, outcome: 'interrupted' };
    let failed = r.failed;
    if (rolling) {
      for (const n of r.failed.keys()) batchFailed.add(n);
      if (step.kind === 'upgrade') continue;
      const ratio = batchFailed.size / step.nodes.length;
      const limit = d.rolling?.maxFailureRatio ?? 0;
      rollingFailed.push(...batchFailed);
      failed = new Map();
      if (batchFailed.size > 0 && (limit === 0 || ratio > limit))
        failed.set([...batchFailed][0] as string, {
          ok: false,
          code: 'UPLIFT_ROLLOUT_FAILURE_RATIO',
          message: `${batchFailed.size} of ${step.nodes.length} nodes of the batch failed (limit ${limit})`,
        });
      batchFailed = new Set();
    }
    if (failed.size === 0) continue;
    const first = [...failed.values()][0] as Extract<Outcome, { ok: false }>;
    const pastReturn = plan.pointOfNoReturn !== null && i > plan.pointOfNoReturn;
    if (pastReturn)
      return { deployment: name, outcome: 'failed', code: first.code, message: first.message };
    const { notRestored } = await restoreDeployment(run, dr, shouldRun);
    return {
      deployment: name,
      outcome: notRestored.length === 0 ? 'rolled-back' : 'failed',
      code: notRestored.length === 0 ? first.code : 'UPLIFT_ROLLOUT_NOT_RESTORED',
      message: first.message,
      ...(notRestored.length === 0 ? {} : { notRestored }),
    };
  }
  if (rollingFailed.length > 0)
    return {
      deployment: name,
      outcome: 'failed',
      code: 'UPLIFT_ROLLOUT_NODE_FAILED',
      message: `within the failure ratio, ${rollingFailed.join(', ')} failed and run their old version`,
      failedNodes: rollingFailed,
    };
  return { deployment: name, outcome: 'passed' };
}

/**
 * The plan was made from the nodes before the deployment was claimed: another controller may have
 * changed them since (two controllers on one environment: the other upgraded it and released its
 * claim). Once claimed, the nodes are read again and, when any differs from what the plan saw, the
 * deployment is planned again from them (nodes at the target are not upgraded again). A node that
 * does not answer leaves the plan as it was: its first step meets it.
 */
async function replanAfterClaim(run: Run, dr: DeploymentRun): Promise<void> {
  const { d, plan } = dr;
  const read = await Promise.all(
    d.nodes.map(async (n) => [n.name, await statusOf(await run.target(d, n))] as const),
  );
  const now = new Map<string, NodeStatus>();
  let same = true;
  for (const [name, s] of read) {
    if (s === undefined) return;
    now.set(nodeKey(d.name, name), s);
    const was = plan.before[name];
    if (was?.version !== s.version || was?.running !== s.running) same = false;
  }
  if (same) return;
  const fresh = planRollout({ ...run.ctx.env, deployments: [d] }, now, new Map(), {
    targets: { [d.name]: plan.to },
  }).deployments[0] as DeploymentRolloutPlan;
  // The estimates stay the first plan's: only the steps follow the nodes.
  dr.plan = { ...fresh, downtime: plan.downtime, expectedSeconds: plan.expectedSeconds };
  dr.baseline = fresh.before;
}

/** Claims a deployment, runs `body` on it, and records its start, plan and finish. */
async function claimAndRun(
  run: Run,
  dr: DeploymentRun,
  body: () => Promise<DeploymentResult>,
): Promise<DeploymentResult> {
  const name = dr.d.name;
  const where = { deployment: name };
  const key = `${run.env}/${name}`;
  let claim: Claim | undefined;
  const store = run.rec.store;
  if (store !== undefined) {
    let held = false;
    try {
      claim = await store.claim(key, run.ctx.controller);
      held = claim === undefined;
    } catch {
      // The store went away: the run goes on unclaimed (docs/rollout.md "Without the store").
    }
    if (held) {
      await run.audit('deployment.claim', 'refused', where);
      run.emit({
        type: 'deployment',
        env: run.env,
        deployment: name,
        state: 'claimed',
        reason: 'another controller holds it',
      });
      return { deployment: name, outcome: 'claimed', message: 'another controller holds it' };
    }
  }
  await run.audit(
    'deployment.claim',
    'ok',
    where,
    claim === undefined ? { claim: 'unverified' } : undefined,
  );
  try {
    const planKey = run.ctx.planKeys?.[name];
    await run.audit('deployment.start', 'started', where, { type: dr.d.type, to: dr.plan.to });
    run.emit({ type: 'deployment', env: run.env, deployment: name, state: 'started' });
    const record = (outcome: 'running' | 'passed' | 'failed' | 'rolled-back') =>
      planKey
        ? run.rec.deploymentPlan({
            runId: run.runId,
            env: run.env,
            deployment: name,
            key: planKey,
            outcome,
          })
        : Promise.resolve();
    await record('running');
    const r = await body();
    if (r.outcome === 'passed' || r.outcome === 'rolled-back') await record(r.outcome);
    else if (r.outcome === 'failed') await record('failed');
    await run.audit('deployment.finish', r.outcome === 'passed' ? 'ok' : 'failed', where, {
      outcome: r.outcome,
      ...(r.code ? { code: r.code } : {}),
      ...(r.notRestored ? { notRestored: r.notRestored } : {}),
      ...(r.failedNodes ? { failedNodes: r.failedNodes } : {}),
    });
    run.emit({
      type: 'deployment',
      env: run.env,
      deployment: name,
      state: r.outcome === 'passed' || r.outcome === 'rolled-back' ? r.outcome : 'failed',
      ...(r.message ? { reason: r.message } : {}),
    });
    return r;
  } finally {
    await claim?.release().catch(() => {});
  }
}

function runOutcome(results: DeploymentResult[]): RolloutOutcome {
  const has = (o: DeploymentOutcome) => results.some((r) => r.outcome === o);
  if (has('interrupted')) return 'interrupted';
  if (has('failed')) return 'failed';
  if (has('rolled-back')) return 'rolled-back';
  return 'passed';
}

async function finish(run: Run, results: DeploymentResult[]): Promise<RolloutResult> {
  const outcome = runOutcome(results);
  // The audit first: a controller killed between the two leaves the run open, and the resume
  // closes it; the other way round, a closed run could lack its finish in the audit.
  await run.audit('rollout.finish', outcome === 'passed' ? 'ok' : 'failed', {}, { outcome });
  await run.rec.try((s) => s.finishRun(run.runId, outcome));
  run.emit({ type: 'run', env: run.env, runId: run.runId, outcome });
  return { runId: run.runId, outcome, deployments: results, storeReachable: run.rec.reachable };
}

/** Deployments after a failure or an interruption are not started. */
function stops(r: DeploymentResult): boolean {
  return r.outcome !== 'passed' && r.outcome !== 'claimed';
}

async function openRecorder(ctx: Shared): Promise<Recorder> {
  const rec = new Recorder(ctx.store, ctx.pendingAuditFile ?? defaultPendingAuditFile);
  if (rec.reachable) await rec.flushPending();
  return rec;
}

/**
 * Runs a planned rollout of one environment (docs/rollout.md): deployment after deployment, each
 * claimed, its steps in order, every action recorded before and after; on a failure the failure
 * policy, and the deployments after it are not started.
 */
export async function runRollout(ctx: RolloutContext): Promise<RolloutResult> {
  const store = ctx.store;
  if (store === undefined)
    throw new UpliftError(
      'UPLIFT_ROLLOUT_STATE_UNREACHABLE',
      'the state store could not be opened: a rollout needs it for claims, gates and its audit',
      {
        hint: 'check UPLIFT_DATABASE_URL or --state; `rollout --resume` works without it',
        unchanged: true,
      },
    );
  const rec = await openRecorder(ctx);
  const refusal = ctx.gate !== undefined && !ctx.gate.pass && ctx.gate.overrideReason === undefined;
  if (refusal) {
    await rec.audit({
      actor: ctx.actor,
      controller: ctx.controller,
      env: ctx.env.name,
      action: 'gate.refuse',
      outcome: 'refused',
      ...(ctx.gate?.detail ? { detail: ctx.gate.detail } : {}),
    });
    throw new UpliftError('UPLIFT_ROLLOUT_GATE_REFUSED', `promotion gate refused ${ctx.env.name}`, {
      hint: 'roll the same plan out to the earlier environments first, or pass --override-gate --reason "…"',
    });
  }
  let record: Awaited<ReturnType<StateStore['startRun']>>;
  try {
    record = await store.startRun({
      id: crypto.randomUUID(),
      env: ctx.env.name,
      deployments: ctx.plans.map((p) => p.deployment),
      topologyDigest: ctx.topologyDigest,
      controller: ctx.controller,
      dryRun: false,
    });
  } catch (e) {
    throw new UpliftError(
      'UPLIFT_ROLLOUT_STATE_UNREACHABLE',
      `the state store ${store.label} did not take the run`,
      { cause: e, unchanged: true },
    );
  }
  const run = new Run(ctx, rec, record.id);
  await run.audit(
    'rollout.start',
    'started',
    {},
    { deployments: ctx.plans.map((p) => p.deployment) },
  );
  if (ctx.gate !== undefined)
    await run.audit(
      ctx.gate.pass ? 'gate.pass' : 'gate.override',
      'ok',
      {},
      { ...ctx.gate.detail, ...(ctx.gate.pass ? {} : { reason: ctx.gate.overrideReason }) },
    );
  const results: DeploymentResult[] = [];
  for (const plan of ctx.plans) {
    if (results.some(stops) || run.aborted) {
      results.push({ deployment: plan.deployment, outcome: 'not-started' });
      run.emit({
        type: 'deployment',
        env: run.env,
        deployment: plan.deployment,
        state: 'not-started',
      });
      continue;
    }
    const d = deploymentOf(ctx.env, plan.deployment);
    const dr: DeploymentRun = {
      d,
      plan,
      baseline: plan.before,
      upgraded: [],
      balancerBefore: new Map(),
    };
    results.push(
      await claimAndRun(run, dr, async () => {
        await replanAfterClaim(run, dr);
        const shouldRun = new Set(
          d.nodes.filter((n) => dr.plan.before[n.name]?.running === true).map((n) => n.name),
        );
        await recordBalancer(run, dr);
        return runDeployment(run, dr, shouldRun);
      }),
    );
  }
  return finish(run, results);
}

/**
 * Resumes an environment's interrupted rollout from its nodes (docs/rollout.md "Resume"): each
 * node's interrupted apply is resumed (or, with abort, taken back), then the deployment is planned
 * again from what its nodes report and continued, or rolled back to the versions before the run.
 * Works without the state store: claims are then unverified and the audit goes to the pending file.
 */
export async function resumeRollout(
  ctx: ResumeContext,
  o: { abort: boolean },
): Promise<RolloutResult> {
  const rec = await openRecorder(ctx);
  const previous = await rec.try((s) => s.unfinishedRun(ctx.env.name));
  const wanted = ctx.deployments ? new Set(ctx.deployments) : undefined;
  const deployments = ctx.env.deployments.filter((d) => wanted === undefined || wanted.has(d.name));
  let runId = previous?.id;
  if (runId === undefined)
    runId =
      (
        await rec.try((s) =>
          s.startRun({
            id: crypto.randomUUID(),
            env: ctx.env.name,
            deployments: deployments.map((d) => d.name),
            topologyDigest: ctx.topologyDigest,
            controller: ctx.controller,
            dryRun: false,
          }),
        )
      )?.id ?? `local-${crypto.randomUUID()}`;
  const records = previous ? ((await rec.try((s) => s.nodeStates(previous.id))) ?? []) : [];
  const run = new Run(ctx, rec, runId);
  await run.audit(
    'rollout.start',
    'started',
    {},
    { resume: true, abort: o.abort, storeReachable: rec.reachable },
  );
  const results: DeploymentResult[] = [];
  for (const d of deployments) {
    if (results.some(stops) || run.aborted) {
      results.push({ deployment: d.name, outcome: 'not-started' });
      run.emit({ type: 'deployment', env: run.env, deployment: d.name, state: 'not-started' });
      continue;
    }
    const to = ctx.targets[d.name] ?? d.to;
    const dr: DeploymentRun = {
      d,
      plan: {
        deployment: d.name,
        type: d.type,
        to,
        steps: [],
        pointOfNoReturn: null,
        pointOfNoReturnReason: '',
        skipped: [],
        upgrades: [],
        before: {},
        downtime: { perNode: {}, serviceSeconds: 0, basis: '' },
        expectedSeconds: 0,
      },
      baseline: {},
      upgraded: [],
      balancerBefore: new Map(),
    };
    const reconcile = async (): Promise<Extract<Outcome, { ok: false }> | undefined> => {
      const now = new Map<string, NodeStatus>();
      const first = new Map<string, NodeStatus | undefined>();
      for (const n of d.nodes)
        first.set(n.name, await unlocked(run, await run.target(d, n), d.nodeTimeoutSeconds * 1000));
      // Finishing an interrupted apply runs its hop again, which starts the node on the new
      // version to validate it: where two versions must never run together, the nodes running
      // another version are stopped first (edges before backends). The plan stops them anyway.
      const mustNotMix = d.type === 'standard-cluster' || d.type === 'streaming';
      if (!o.abort && mustNotMix && [...first.values()].some((s) => s?.interrupted === true)) {
        const others = d.nodes
          .filter((n) => first.get(n.name)?.running === true && first.get(n.name)?.version !== to)
          .sort((a, b) => Number(a.role === 'backend') - Number(b.role === 'backend'));
        for (const n of others) {
          const t = await run.target(d, n);
          const r = await act(
            run,
            dr,
            n.name,
            'stop',
            'node.stop',
            { after: 'stopped' },
            () => command(t, nodeCommands.stop(t), shortCommandMs),
            { before: 'resume' },
          );
          if (!r.ok) return r;
        }
      }
      for (const n of d.nodes) {
        const t = await run.target(d, n);
        let s = first.get(n.name);
        if (s?.interrupted === true) {
          await act(
            run,
            dr,
            n.name,
            'resume',
            'node.resume',
            {},
            () => command(t, nodeCommands.resume(t, o.abort), d.nodeTimeoutSeconds * 1000),
            { abort: o.abort },
          );
          s = await statusOf(t);
        }
        if (s !== undefined) now.set(nodeKey(d.name, n.name), s);
      }
      dr.baseline = baselineOf(d, now, records, to);
      dr.upgraded = d.nodes
        .map((n) => n.name)
        .filter((n) => {
          const was = dr.baseline[n]?.version;
          return was !== undefined && was !== '' && now.get(nodeKey(d.name, n))?.version !== was;
        });
      const plan = planRollout({ ...ctx.env, deployments: [d] }, now, ctx.estimates, {
        targets: { [d.name]: to },
      }).deployments[0] as DeploymentRolloutPlan;
      dr.plan = plan;
      return undefined;
    };
    // The deployment ran before the run: after an abort every node runs again.
    const shouldRun = new Set(d.nodes.map((n) => n.name));
    results.push(
      await claimAndRun(run, dr, async () => {
        const refused = await reconcile();
        if (refused !== undefined)
          return {
            deployment: d.name,
            outcome: 'failed',
            code: refused.code,
            message: refused.message,
          };
        if (!o.abort) return runDeployment(run, dr, shouldRun);
        const { notRestored, tookBack } = await restoreDeployment(run, dr, shouldRun);
        // The run had finished before its controller died (the store closed it): every node runs
        // the target and there is nothing to take back. Saying "rolled back" would be untrue.
        if (
          notRestored.length === 0 &&
          previous === undefined &&
          tookBack === 0 &&
          dr.plan.upgrades.length === 0
        )
          return {
            deployment: d.name,
            outcome: 'passed',
            message: `nothing to take back: no unfinished rollout of ${ctx.env.name}, and every node runs ${to}`,
          };
        return notRestored.length === 0
          ? { deployment: d.name, outcome: 'rolled-back' }
          : {
              deployment: d.name,
              outcome: 'failed',
              code: 'UPLIFT_ROLLOUT_NOT_RESTORED',
              notRestored,
            };
      }),
    );
  }
  return finish(run, results);
}

/**
 * The versions the nodes had before the interrupted run: the store's record when there is one;
 * else a node not at the target had its version all along, and a node at the target beside nodes
 * of one other version was upgraded by the run (a deployment does not run mixed versions).
 */
function baselineOf(
  d: Deployment,
  now: Map<string, NodeStatus>,
  records: { deployment: string; node: string; fromVersion?: string }[],
  to: string,
): Record<string, NodeStatus> {
  const others = new Set(
    d.nodes
      .map((n) => now.get(nodeKey(d.name, n.name))?.version)
      .filter((v): v is string => v !== undefined && v !== to),
  );
  const out: Record<string, NodeStatus> = {};
  for (const n of d.nodes) {
    const s = now.get(nodeKey(d.name, n.name));
    const recorded = records.find(
      (r) => r.deployment === d.name && r.node === n.name && r.fromVersion,
    )?.fromVersion;
    const inferred = s?.version === to && others.size === 1 ? [...others][0] : s?.version;
    out[n.name] = { version: recorded ?? inferred ?? '', running: true };
  }
  return out;
}
