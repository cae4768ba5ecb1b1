import { type GateVerdict, gateFor, planRollout, type RolloutPlan } from '../rollout/index.ts';
import type { PlanKey, StateStore } from '../state/index.ts';
import type { Deployment, Environment, Topology } from '../topology/index.ts';
import type { Connection } from './connect.ts';
import { type Survey, survey } from './survey.ts';

/** A fresh rollout's plan before anything changes: what `rollout --dry-run` and the dashboard show. */
export interface FreshRolloutPlan {
  survey: Survey;
  plan: RolloutPlan;
  gate: GateVerdict;
}

/**
 * Surveys the deployments' nodes, plans their rollout in order and judges the promotion gate
 * against the store's passed plans. `record` lets the survey record the facts it read (a real
 * rollout); a dry run records nothing.
 */
export async function planFreshRollout(
  conn: Connection,
  topology: Topology,
  env: Environment,
  deployments: Deployment[],
  store: StateStore,
  o: { record: boolean },
): Promise<FreshRolloutPlan> {
  const s = await survey(conn, deployments, { needPlans: true, ...(o.record ? { store } : {}) });
  const plan = planRollout(env, s.status, s.estimates, {
    targets: s.targets,
    deployments: deployments.map((d) => d.name),
  });
  const index = topology.environments.findIndex((e) => e.name === env.name);
  const passed = new Map<string, PlanKey[]>();
  for (const e of topology.environments.slice(0, index))
    passed.set(e.name, await store.passedPlanKeys(e.name));
  const gate = gateFor(topology, env.name, new Map(Object.entries(s.planKeys)), passed);
  return { survey: s, plan, gate };
}
