import type { Deployment } from '../topology/types.ts';
import { nodeCommands } from './node-commands.ts';
import { nodeKey, planRollout } from './plan-rollout.ts';
import { restoreDeployment } from './restore-deployment.ts';

import {
  act,
  command,
  type DeploymentRun,
  finish,
  type Outcome,
  openRecorder,
  Run,
  shortCommandMs,
  statusOf,
  stops,
  unlocked,
} from './run-context.ts';
import { claimAndRun, recheckBalancer, runDeployment } from './run-rollout.ts';
import type {
  DeploymentResult,
  DeploymentRolloutPlan,
  NodeStatus,
  ResumeContext,
  RolloutResult,
} from './types.ts';

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
        if (!o.abort) return (await recheckBalancer(run, dr)) ?? runDeployment(run, dr, shouldRun);
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
