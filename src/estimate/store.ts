import { hostname } from 'node:os';
import type { LoadedCatalog } from '../catalog/index.ts';
import type { OpenedStateStore, StateStore } from '../state/index.ts';
import type { AccuracyRow } from './accuracy.ts';
import type { HopSample } from './learn.ts';
import { volumeFacts } from './volume.ts';

/**
 * How measured hops live in the state store (docs/estimates.md): one step timing per apply step,
 * named `hop <from> → <to> <step>`, plus `… downtime`, under the apply run's id; the run's
 * data-volume facts as its facts snapshot. Any installation that shares the store learns from them.
 */
export function hopPrefix(from: string, to: string): string {
  return `hop ${from} → ${to} `;
}

/**
 * Copies the installation's measured hops into the store, each run once (a run already there is
 * left as it is). `deployment` names where they were measured (default: the installation's path).
 * `node` names the machine (default: this one). Returns how many runs were added.
 */
export async function publishSamples(
  store: Pick<StateStore, 'stepTimingsByPrefix' | 'recordStep' | 'recordFacts'>,
  samples: readonly HopSample[],
  deployment: string,
  node: string = hostname(),
): Promise<number> {
  const added = new Set<string>();
  const seen = new Map<string, Set<string>>();
  for (const s of samples) {
    if (s.runId === undefined) continue;
    const prefix = hopPrefix(s.from, s.to);
    let runs = seen.get(prefix);
    if (!runs) {
      runs = new Set(((await store.stepTimingsByPrefix?.(prefix)) ?? []).map((t) => t.runId));
      seen.set(prefix, runs);
    }
    if (runs.has(s.runId)) continue;
    const step = (name: string, seconds: number) =>
      store.recordStep({
        runId: s.runId as string,
        deployment,
        node,
        step: `${prefix}${name}`,
        seconds,
      });
    for (const [name, seconds] of Object.entries(s.stepSeconds)) await step(name, seconds);
    if (s.downtimeSeconds !== undefined) await step('downtime', s.downtimeSeconds);
    if (!added.has(s.runId))
      await store.recordFacts({ runId: s.runId, deployment, node, facts: nested(s.volume) });
    runs.add(s.runId);
    added.add(s.runId);
  }
  return added.size;
}

/** The store's measured runs of each hop, with the data volume the catalog's durations scale with. */
export async function storeSamples(
  store: OpenedStateStore,
  hops: readonly { from: string; to: string }[],
  catalog: LoadedCatalog,
): Promise<HopSample[]> {
  const out: HopSample[] = [];
  for (const h of hops) {
    const prefix = hopPrefix(h.from, h.to);
    const byRun = new Map<
      string,
      { deployment: string; node: string; at: string; steps: Record<string, number> }
    >();
    for (const t of await store.stepTimingsByPrefix(prefix)) {
      const run = byRun.get(t.runId) ?? {
        deployment: t.deployment,
        node: t.node,
        at: t.at,
        steps: {},
      };
      run.steps[t.step.slice(prefix.length)] = t.seconds;
      byRun.set(t.runId, run);
    }
    for (const [runId, r] of byRun) {
      const facts = (await store.runFacts(runId)).at(-1)?.facts;
      if (facts === undefined) continue;
      const { downtime, ...stepSeconds } = r.steps;
      out.push({
        from: h.from,
        to: h.to,
        source: `${store.label} run ${runId} (${r.deployment} on ${r.node})`,
        runId,
        at: r.at,
        stepSeconds,
        ...(downtime !== undefined ? { downtimeSeconds: downtime } : {}),
        volume: volumeFacts(catalog, facts),
      });
    }
  }
  return out;
}

/** Keeps each accuracy row in the store's audit log, once per run (`estimate.accuracy`). */
export async function publishAccuracy(
  store: OpenedStateStore,
  rows: readonly AccuracyRow[],
  deployment: string,
): Promise<void> {
  for (const r of rows) {
    const known = await store.listAudit({ runId: r.runId, deployment });
    if (known.some((a) => a.action === 'estimate.accuracy')) continue;
    await store.audit({
      actor: actor(),
      controller: 'uplift estimate',
      runId: r.runId,
      deployment,
      node: hostname(),
      action: 'estimate.accuracy',
      outcome: 'ok',
      detail: { ...r },
    });
  }
}

function actor(): string {
  return `${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}@${hostname()}`;
}

/** `{ 'data.rows': 3 }` as facts: `{ data: { rows: 3 } }`. */
function nested(volume: Record<string, number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(volume)) {
    const parts = path.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) {
      at[part] ??= {};
      at = at[part] as Record<string, unknown>;
    }
    at[parts.at(-1) as string] = value;
  }
  return out;
}

/**
 * The measured hops of one `uplift apply --json` result (what a rollout's node upgrade printed),
 * as samples to publish: the committed hops with their step seconds, downtime and the run's data
 * volume. Anything else (an older uplift on the node, a failed run) gives none.
 */
export function applyResultSamples(source: string, result: unknown): HopSample[] {
  const r = (result ?? {}) as {
    runId?: unknown;
    startedAt?: unknown;
    volume?: unknown;
    hops?: unknown;
  };
  if (typeof r.runId !== 'string' || !Array.isArray(r.hops)) return [];
  if (typeof r.volume !== 'object' || r.volume === null) return [];
  const out: HopSample[] = [];
  for (const h of r.hops as Record<string, unknown>[]) {
    const steps = h?.stepSeconds as Record<string, unknown> | undefined;
    if (typeof h?.from !== 'string' || typeof h?.to !== 'string' || steps === undefined) continue;
    out.push({
      from: h.from,
      to: h.to,
      source: `${source} run ${r.runId}`,
      runId: r.runId,
      at: typeof r.startedAt === 'string' ? r.startedAt : new Date().toISOString(),
      stepSeconds: Object.fromEntries(
        Object.entries(steps).filter((e): e is [string, number] => typeof e[1] === 'number'),
      ),
      ...(typeof h.downtimeSeconds === 'number' ? { downtimeSeconds: h.downtimeSeconds } : {}),
      volume: r.volume as Record<string, number>,
    });
  }
  return out;
}
