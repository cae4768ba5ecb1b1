import type { LoadedCatalog } from '../catalog/index.ts';
import { evaluateRule } from '../rules/index.ts';
import { latestOfRelease, sameRelease } from '../versioning/index.ts';

/** Why a step is on the path, in words an operator reads and a code a script matches. */
export type StepReasonCode =
  | 'latest-patch-first'
  | 'required-stop'
  | 'conditional-stop'
  | 'target'
  | 'edge'
  | 'manual-step'
  | 'after-manual-step';

export interface PathStep {
  kind: 'pack' | 'manual' | 'install';
  /** The version the step starts from; null after a removal. */
  from: string | null;
  /** The version the step reaches, spelled as the catalog spells it; null for a removal. */
  to: string | null;
  reason: { code: StepReasonCode; text: string };
  /** For a manual step: the catalog's manual step. */
  manual?: { id: string; title: string; detail?: string; minutes: number; link?: string };
  /** Set by an explicit edge that states this hop's downtime. */
  downtimeMinutes?: number;
}

export interface ConditionalStopOutcome {
  version: string;
  reason?: string;
  value: true | false | 'unknown';
  missing: string[];
}

export type PathResult =
  | { found: true; steps: PathStep[]; conditionalStops: ConditionalStopOutcome[] }
  | {
      found: false;
      blockedBy: { from: string; reason: string; link?: string }[];
      conditionalStops: ConditionalStopOutcome[];
    };

/** Estimated downtime of one hop in seconds; the tie-break between paths with equal hop counts. */
export type HopCost = (step: PathStep) => number;

interface Transition {
  to: string;
  steps: PathStep[];
}

/**
 * Finds the upgrade path from `from` to `to` (both in the catalog's spelling, from < to). Pure.
 *
 * Hops come from the required stops (a hop may not skip an active stop), from explicit edges, and
 * from manual steps out of blocked versions; blocked hops are removed. "Latest patch first" forces
 * the first hop. Among the remaining paths: fewest hops, then least estimated downtime.
 */
export function findPath(
  c: LoadedCatalog,
  from: string,
  to: string,
  facts: unknown,
  cost: HopCost,
): PathResult {
  const { scheme } = c;
  const conditionalStops: ConditionalStopOutcome[] = [];
  const stops: { version: string; conditional: boolean; reason?: string }[] = [];
  for (const s of c.stops) {
    if (!s.stop.when) {
      stops.push({ version: s.version, conditional: false, reason: s.stop.reason });
      continue;
    }
    const outcome = evaluateRule(s.stop.when, facts);
    conditionalStops.push({
      version: s.version,
      reason: s.stop.reason,
      value: outcome.value,
      missing: outcome.missing,
    });
    // An unknown condition keeps the stop: the longer path is the safe one.
    if (outcome.value !== false)
      stops.push({ version: s.version, conditional: true, reason: s.stop.reason });
  }
  const blockedBy = new Map<string, { from: string; reason: string; link?: string }>();
  const isBlocked = (a: string, b: string): boolean => {
    for (const rule of c.blocked) {
      if (rule.from.matches(a) && (!rule.to || rule.to.matches(b))) {
        blockedBy.set(`${a}\u0000${rule.reason}`, {
          from: a,
          reason: rule.reason,
          link: rule.link,
        });
        return true;
      }
    }
    return false;
  };
  const useStops = c.stops.length > 0 || !c.hasEdges;

  const nextStop = (v: string) => stops.find((s) => scheme.compare(s.version, v) > 0);

  const transitions = (v: string): Transition[] => {
    const out: Transition[] = [];
    const hop = (w: string, reason: PathStep['reason'], downtimeMinutes?: number) => {
      if (scheme.compare(w, to) > 0 || isBlocked(v, w)) return;
      out.push({ to: w, steps: [{ kind: 'pack', from: v, to: w, reason, downtimeMinutes }] });
    };
    if (useStops) {
      const s = nextStop(v);
      if (s && scheme.compare(s.version, to) < 0) {
        hop(s.version, {
          code: s.conditional ? 'conditional-stop' : 'required-stop',
          text:
            s.reason ??
            (s.conditional ? 'a stop required for this installation' : 'a required stop'),
        });
      } else {
        hop(to, { code: 'target', text: 'the target version' });
      }
    }
    for (const e of c.edgesFrom.get(v) ?? [])
      hop(e.to, { code: 'edge', text: 'an allowed upgrade edge' }, e.downtimeMinutes);
    for (const e of c.edgesByPattern) {
      if (e.from.matches(v) && scheme.compare(e.to, v) > 0)
        hop(e.to, { code: 'edge', text: 'an allowed upgrade edge' }, e.downtimeMinutes);
    }
    for (const m of c.manualSteps) {
      if (!m.from.matches(v) || scheme.compare(m.continueAt, to) > 0) continue;
      const step = m.step;
      out.push({
        to: m.continueAt,
        steps: [
          {
            kind: 'manual',
            from: v,
            to: null,
            reason: { code: 'manual-step', text: step.detail ?? step.title },
            manual: {
              id: step.id,
              title: step.title,
              detail: step.detail,
              minutes: step.minutes,
              link: step.link,
            },
          },
          {
            kind: 'install',
            from: null,
            to: m.continueAt,
            reason: {
              code: 'after-manual-step',
              text: `install ${m.continueAt} after: ${step.title}`,
            },
          },
        ],
      });
    }
    return out;
  };

  const start: Transition[] = [];
  const prerequisite = prerequisiteOf(c, from, to);
  if (prerequisite && !isBlocked(from, prerequisite.version)) {
    start.push({
      to: prerequisite.version,
      steps: [
        {
          kind: 'pack',
          from,
          to: prerequisite.version,
          reason: { code: 'latest-patch-first', text: prerequisite.text },
        },
      ],
    });
  } else {
    start.push(...transitions(from));
  }

  const best = shortest(start, to, transitions, cost);
  if (best) return { found: true, steps: best, conditionalStops };
  return { found: false, blockedBy: [...blockedBy.values()], conditionalStops };
}

/** The forced first hop of "latest patch first", when the installed version needs one. */
function prerequisiteOf(
  c: LoadedCatalog,
  from: string,
  to: string,
): { version: string; text: string } | undefined {
  const { scheme } = c;
  if (!c.catalog.upgrade.latestPatchFirst || sameRelease(scheme, from, to)) return undefined;
  const override = c.prerequisites.get(scheme.releaseOf(from));
  const target = override?.target ?? latestOfRelease(scheme, c.versions, from);
  if (target === undefined || scheme.compare(target, from) <= 0) return undefined;
  const text = override?.reason ?? `be on the latest patch of ${scheme.releaseOf(from)} first`;
  return { version: target, text };
}

interface Label {
  hops: number;
  downtime: number;
  steps: PathStep[];
}

/** Dijkstra over versions with the cost (hops, downtime), compared in that order. */
function shortest(
  start: Transition[],
  to: string,
  transitions: (v: string) => Transition[],
  cost: HopCost,
): PathStep[] | undefined {
  const best = new Map<string, Label>();
  const heap = new LabelHeap();
  const relax = (t: Transition, base: Label) => {
    const label: Label = {
      hops: base.hops + t.steps.length,
      downtime: base.downtime + t.steps.reduce((sum, s) => sum + cost(s), 0),
      steps: [...base.steps, ...t.steps],
    };
    const known = best.get(t.to);
    if (known && !isBetter(label, known)) return;
    best.set(t.to, label);
    heap.push(t.to, label);
  };
  const origin: Label = { hops: 0, downtime: 0, steps: [] };
  for (const t of start) relax(t, origin);
  const done = new Set<string>();
  for (let item = heap.pop(); item; item = heap.pop()) {
    const [v, label] = item;
    if (done.has(v) || best.get(v) !== label) continue;
    if (v === to) return label.steps;
    done.add(v);
    for (const t of transitions(v)) if (!done.has(t.to)) relax(t, label);
  }
  return undefined;
}

function isBetter(a: Label, b: Label): boolean {
  return a.hops !== b.hops ? a.hops < b.hops : a.downtime < b.downtime;
}

/** A binary min-heap of labels; the planner's hot loop on large catalogs. */
class LabelHeap {
  private readonly items: [string, Label][] = [];

  push(v: string, label: Label): void {
    const items = this.items;
    items.push([v, label]);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!isBetter(label, (items[parent] as [string, Label])[1])) break;
      items[i] = items[parent] as [string, Label];
      i = parent;
    }
    items[i] = [v, label];
  }

  pop(): [string, Label] | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mLabel = last[1];
        if (l < items.length && isBetter((items[l] as [string, Label])[1], mLabel)) {
          m = l;
          mLabel = (items[l] as [string, Label])[1];
        }
        if (r < items.length && isBetter((items[r] as [string, Label])[1], mLabel)) m = r;
        if (m === i) break;
        items[i] = items[m] as [string, Label];
        i = m;
      }
      items[i] = last;
    }
    return top;
  }
}
