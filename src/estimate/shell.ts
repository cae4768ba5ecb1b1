import { readHistory, statePaths } from '../apply/index.ts';
import type { LoadedCatalog } from '../catalog/index.ts';
import type { Plan } from '../plan/index.ts';
import type { OpenedStateStore } from '../state/index.ts';
import { estimateBefore, readEstimates, recordEstimate } from './accuracy.ts';
import { type HopSample, learnEstimate, type RollbackSample } from './learn.ts';
import { historySamples } from './samples.ts';
import { storeSamples } from './store.ts';
import type { LearnedEstimate } from './types.ts';
import { hopDurations } from './volume.ts';

export interface EstimateSources {
  /** The installation the estimate is for: its own history is learned from first. */
  install: string;
  /** Other installations of the same product (test, preprod) whose history is learned from too. */
  learnFrom?: readonly string[];
  /** A state store whose measured runs of the same hops (other environments) are learned from too. */
  store?: OpenedStateStore;
}

/**
 * The I/O shell of {@link learnEstimate}: gathers the measured hops of every source's history
 * and of the store; a run found in both counts once.
 */
export async function estimatePlan(
  plan: Plan,
  catalog: LoadedCatalog,
  volume: Record<string, number>,
  sources: EstimateSources,
): Promise<LearnedEstimate> {
  const samples: HopSample[] = [];
  const rollbacks: RollbackSample[] = [];
  for (const dir of [sources.install, ...(sources.learnFrom ?? [])]) {
    const s = await historySamples(dir);
    samples.push(...s.samples);
    rollbacks.push(...s.rollbacks);
  }
  if (sources.store) {
    const known = new Set(samples.map((s) => s.runId));
    const hops = plan.steps
      .filter((s) => s.kind === 'pack' && s.from && s.to)
      .map((s) => ({ from: s.from as string, to: s.to as string }));
    for (const s of await storeSamples(sources.store, hops, catalog))
      if (!known.has(s.runId)) samples.push(s);
  }
  return learnEstimate({
    plan,
    durations: (to) => hopDurations(catalog, to),
    volume,
    samples,
    rollbacks,
  });
}

/**
 * What apply does before a run: keeps the estimate `uplift estimate` made for it, or when none was
 * made since the last run, learns one from the installation's own history; `record` (called once
 * the run went in) keeps that one, dated before the run, so every run has an estimate to be
 * compared with (`uplift estimate --accuracy`). Nothing is written before the run.
 */
export async function estimateForRun(
  plan: Plan,
  catalog: LoadedCatalog,
  volume: Record<string, number>,
  install: string,
): Promise<{ estimate: LearnedEstimate; record: () => Promise<void> }> {
  const p = statePaths(install);
  const now = new Date().toISOString();
  const kept = estimateBefore(await readEstimates(p), await readHistory(p), {
    runId: '',
    from: plan.from,
    to: plan.steps.filter((s) => s.kind === 'pack').at(-1)?.to ?? plan.to,
    startedAt: now,
  });
  if (kept) return { estimate: kept.estimate, record: async () => {} };
  const estimate = await estimatePlan(plan, catalog, volume, { install });
  return {
    estimate,
    record: () =>
      recordEstimate(p, { at: now, install, from: plan.from, to: plan.to, by: 'apply', estimate }),
  };
}
