import { type HistoryEntry, readHistory, statePaths } from '../apply/index.ts';
import type { HopSample, RollbackSample } from './learn.ts';

/**
 * The measured hops of an installation's history (history.jsonl beside it): each committed hop
 * of an apply run that recorded its step seconds and data volume, and each `uplift rollback` of
 * one hop with its downtime. Runs recorded before apply kept those (no `volume`) are left out: a
 * timing whose data volume is unknown cannot be scaled.
 */
export async function historySamples(
  install: string,
): Promise<{ samples: HopSample[]; rollbacks: RollbackSample[] }> {
  return samplesOf(install, await readHistory(statePaths(install)));
}

/** {@link historySamples} on history already read. */
export function samplesOf(
  install: string,
  history: readonly HistoryEntry[],
): { samples: HopSample[]; rollbacks: RollbackSample[] } {
  const samples: HopSample[] = [];
  const rollbacks: RollbackSample[] = [];
  const runs = new Map(history.filter((e) => e.kind === 'apply').map((e) => [e.runId, e]));
  for (const e of history) {
    if (e.kind === 'apply' && e.volume) {
      for (const h of e.hops)
        if (h.outcome === 'committed' && h.stepSeconds && h.downtimeSeconds !== undefined)
          samples.push({
            from: h.from,
            to: h.to,
            source: `${install} run ${e.runId}`,
            runId: e.runId,
            at: e.startedAt,
            stepSeconds: h.stepSeconds as Record<string, number>,
            downtimeSeconds: h.downtimeSeconds,
            volume: e.volume,
          });
      continue;
    }
    if (e.kind !== 'rollback' || !e.undid || e.downtimeSeconds === undefined) continue;
    if (e.undid.hops && e.undid.hops.length > 1) continue;
    const run = runs.get(e.undid.runId);
    const hop = run?.hops.find((h) => h.hop === e.undid?.hop);
    if (!run?.volume || !hop) continue;
    rollbacks.push({
      from: hop.from,
      to: hop.to,
      source: `${install} rollback ${e.runId}`,
      at: e.startedAt,
      seconds: e.downtimeSeconds,
      volume: run.volume,
    });
  }
  return { samples, rollbacks };
}
