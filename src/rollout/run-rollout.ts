import type { ServerState } from '../balancer/types.ts';
import { UpliftError } from '../errors/index.ts';
import { applyResultSamples, publishSamples } from '../estimate/index.ts';
import type { Claim, NodeStateName, StateStore } from '../state/types.ts';
import type { TopologyNode } from '../topology/types.ts';
import { type NodeTarget, nodeCommands } from './node-commands.ts';
import { nodeKey, planRollout } from './plan-rollout.ts';
import { restoreDeployment } from './restore-deployment.ts';

import {
  act,
  command,
  type DeploymentRun,
  deploymentOf,
  edgeMayStart,
  failure,
  finish,
  nodeOf,
  type Outcome,
  openRecorder,
  pool,
  Run,
  serverOf,
  shortCommandMs,
  statusOf,
  stops,
} from './run-context.ts';
import type {
  DeploymentResult,
  DeploymentRolloutPlan,
  NodeStatus,
  RolloutContext,
  RolloutResult,
  RolloutStep,
} from './types.ts';

/** Runs one step on its nodes. */
export async function runStep(
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
            (json) => publishHops(run, d.name, n.name, json),
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
 * active/passive: each server's admin state before the run, for the failure policy to restore.
 * It also refuses, before anything changes, servers whose traffic draining and enabling cannot
 * move (`unfitServers`). The refusal is the deployment's result.
 */
export async function recordBalancer(
  run: Run,
  dr: DeploymentRun,
): Promise<DeploymentResult | undefined> {
  const states = await balancerStates(run, dr, (s) => dr.balancerBefore.set(s.server, s.admin));
  return states && unfitServers(dr, states, 'start');
}

/**
 * `rollout --resume` (not `--abort`): the servers are read again before the deployment's next step,
 * since an operator may have changed them while the run was interrupted. Nothing is recorded: the
 * admin states now are the interrupted run's, not the ones before it.
 */
export async function recheckBalancer(
  run: Run,
  dr: DeploymentRun,
): Promise<DeploymentResult | undefined> {
  const states = await balancerStates(run, dr, () => undefined);
  return states && unfitServers(dr, states, 'resume');
}

/**
 * Every node's server as the balancer reports it, each handed to `read` as it comes (so a read
 * failing partway keeps the servers read before it); undefined when the deployment is not
 * active/passive, has no step left, or a read fails. Unknown from there on: the restore falls back
 * to the topology's meaning (a active, b passive) for the servers not read, and the first
 * balancer step reports what is wrong.
 */
async function balancerStates(
  run: Run,
  dr: DeploymentRun,
  read: (s: ServerState) => void,
): Promise<ServerState[] | undefined> {
  const { d } = dr;
  if (d.type !== 'active-passive' || dr.plan.steps.length === 0) return undefined;
  const states: ServerState[] = [];
  try {
    const b = await run.balancer(d);
    for (const n of d.nodes) {
      const s = await b.state(serverOf(n));
      states.push(s);
      read(s);
    }
  } catch {
    return undefined;
  }
  return states;
}

/**
 * Servers whose traffic draining and enabling cannot move (docs/topology.md, "Load balancers"): a
 * `backup` server takes traffic only when every other server is down, so an enabled side of
 * backups leaves the drained side's clients with no server; a server of weight 0 takes none once
 * enabled.
 */
function unfitServers(
  dr: DeploymentRun,
  states: ServerState[],
  when: 'start' | 'resume',
): DeploymentResult | undefined {
  const unfit = states.filter((s) => s.backup === true || s.weight === 0);
  if (unfit.length === 0) return undefined;
  const why = unfit.map((s) => `${s.server} (${s.backup ? 'backup' : 'weight 0'})`).join(', ');
  const name = dr.d.name;
  return {
    deployment: name,
    outcome: 'failed',
    code: 'UPLIFT_BALANCER_SERVER_UNFIT',
    message:
      `${name}: the balancer's ${unfit.length === 1 ? 'server' : 'servers'} ${why} cannot carry a side's traffic when enabled; ` +
      (when === 'start'
        ? 'nothing was changed. '
        : "the resume stopped before the deployment's next step: the balancer is as the interrupted run left it, and so is every node (an interrupted apply was finished first). ") +
      'Make every node a normal server with a weight above 0, and keep the passive side out of rotation with its admin state drain (docs/topology.md, "Load balancers")' +
      (when === 'start' ? '' : ', then run `uplift rollout --resume` again'),
  };
}

/** Runs one deployment's steps; on a failure applies the failure policy. */
export async function runDeployment(
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
export async function replanAfterClaim(run: Run, dr: DeploymentRun): Promise<void> {
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
export async function claimAndRun(
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
        return (await recordBalancer(run, dr)) ?? runDeployment(run, dr, shouldRun);
      }),
    );
  }
  return finish(run, results);
}

/**
 * A node's measured hops (its apply's step seconds and data volume) go into the store, where
 * `uplift estimate` in later environments learns from them (docs/estimates.md). Best effort: a
 * store that cannot take them loses the figures, not the rollout.
 */
async function publishHops(run: Run, deployment: string, node: string, json: unknown) {
  const samples = applyResultSamples(`${run.env}/${deployment}/${node}`, json);
  if (samples.length > 0)
    await run.rec.try((s) => publishSamples(s, samples, `${run.env}/${deployment}`, node));
}
