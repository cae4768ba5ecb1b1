import { basename, join } from 'node:path';
import type { Plan, PlanStep } from '../plan/index.ts';

/** The hops of a plan that apply runs, up to the first step it cannot (manual or fresh install). */
export function packHops(plan: Plan): { hops: PlanStep[]; stop?: PlanStep } {
  const hops: PlanStep[] = [];
  for (const s of plan.steps) {
    if (s.kind !== 'pack' || !s.pack || s.from === null || s.to === null) return { hops, stop: s };
    hops.push(s);
  }
  return { hops };
}

/** Where a hop's pack is in the packs folder: the file name the plan gives. */
export function resolvePack(packsDir: string, s: PlanStep): string {
  return join(packsDir, basename(s.pack?.file ?? ''));
}
