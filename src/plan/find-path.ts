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

type ManualEntry = LoadedCatalog['manualSteps'][number];

/**
 * One way out of a version during the search. Kept small on purpose: a large catalog offers
 * tens of thousands of them per plan, and full steps are built only for the path that wins.
 */
interface Hop {
  to: string;
  reason: PathStep['reason'];
  downtimeMinutes?: number;
  /** A manual step and the install after it. */
  manual?: ManualEntry;
}

const edgeReason: PathStep['reason'] = { code: 'edge', text: 'an allowed upgrade edge' };
const targetReason: PathStep['reason'] = { code: 'target', text: 'the target version' };

/**
 * Finds the upgrade path from `from` to `to` (both in the catalog's spelling, from < to). Pure.
 *
 * Hops come from the required stops (a hop may not skip an active stop), from explicit edges (the
 * vendor's own statement, so they may cross a stop; docs/catalog.md), and from manual steps out of
 * blocked versions; blocked hops are removed. "Latest patch first" forces the first hop. Among the
 * remaining paths: fewest hops, then least estimated downtime.
 *
 * The search runs over version ranks (integers), not strings: on a catalog of 10,000 releases and
 * 50,000 edges a path to the newest release visits most of the graph.
 */
export function findPath(
  c: LoadedCatalog,
  from: string,
  to: string,
  facts: unknown,
  cost: HopCost,
): PathResult {
  const conditionalStops: ConditionalStopOutcome[] = [];
  const stops: { rank: number; reason: PathStep['reason'] }[] = [];
  const rank = (v: string) => c.rank.get(v) as number;
  const origin = rank(from);
  const toRank = rank(to);
  for (const s of c.stops) {
    // A stop at or below the installed version, or at or above the target, can change neither the
    // path nor the verdict (docs/catalog.md, "The verdict"), so its rule is not even evaluated.
    const at = rank(s.version);
    if (at <= origin || at >= toRank) continue;
    let conditional = false;
    if (s.stop.when) {
      const outcome = evaluateRule(s.stop.when, facts);
      conditionalStops.push({
        version: s.version,
        reason: s.stop.reason,
        value: outcome.value,
        missing: outcome.missing,
      });
      // An unknown condition keeps the stop: the longer path is the safe one.
      if (outcome.value === false) continue;
      conditional = true;
    }
    const text =
      s.stop.reason ?? (conditional ? 'a stop required for this installation' : 'a required stop');
    stops.push({
      rank: rank(s.version),
      reason: { code: conditional ? 'conditional-stop' : 'required-stop', text },
    });
  }
  const { versions } = c;
  const graph = edgeGraph(c);

  const blockedBy = new Map<string, { from: string; reason: string; link?: string }>();
  const out = waysOut(c);
  const isBlocked = (a: number, b: number): boolean => {
    for (const rule of out.blockedFrom(a)) {
      if (!rule.to || rule.to.matches(versions[b] as string)) {
        const v = versions[a] as string;
        blockedBy.set(`${v}\u0000${rule.reason}`, {
          from: v,
          reason: rule.reason,
          link: rule.link,
        });
        return true;
      }
    }
    return false;
  };
  const useStops = c.stops.length > 0 || !c.hasEdges;

  // Estimates depend on where a hop lands, not where it starts, so one per target is enough.
  const packCost = new Float64Array(versions.length).fill(Number.NaN);
  const costOf = (v: number, w: number, downtimeMinutes: number, manual?: ManualEntry): number => {
    if (!Number.isNaN(downtimeMinutes)) return Math.round(downtimeMinutes * 60);
    if (manual)
      return stepsOf(versions[v] as string, {
        to: versions[w] as string,
        reason: edgeReason,
        manual,
      }).reduce((sum, s) => sum + cost(s), 0);
    let seconds = packCost[w] as number;
    if (Number.isNaN(seconds)) {
      seconds = cost({
        kind: 'pack',
        from: versions[v] as string,
        to: versions[w] as string,
        reason: edgeReason,
      });
      packCost[w] = seconds;
    }
    return seconds;
  };

  const search = new Search(versions.length);
  const relax = (v: number, w: number, hop: Omit<Hop, 'to'>, downtimeMinutes = Number.NaN) => {
    // A manual step is the way out of a blocked version, so blocked rules do not apply to it.
    if (w > toRank || (!hop.manual && isBlocked(v, w))) return;
    search.relax(v, w, hop.manual ? 2 : 1, costOf(v, w, downtimeMinutes, hop.manual), hop);
  };
  const expand = (v: number) => {
    if (useStops) {
      const s = stops.find((x) => x.rank > v);
      if (s && s.rank < toRank) relax(v, s.rank, { reason: s.reason });
      else relax(v, toRank, { reason: targetReason });
    }
    for (let e = graph.start[v] as number; e < (graph.start[v + 1] as number); e++) {
      relax(
        v,
        graph.to[e] as number,
        { reason: edgeReason, downtimeMinutes: nanToUndefined(graph.downtime[e] as number) },
        graph.downtime[e],
      );
    }
    for (const e of out.patternEdgesFrom(v))
      relax(
        v,
        rank(e.to),
        { reason: edgeReason, downtimeMinutes: e.downtimeMinutes },
        e.downtimeMinutes,
      );
    for (const m of out.manualStepsFrom(v))
      relax(v, rank(m.continueAt), { reason: edgeReason, manual: m });
  };

  const prerequisite = prerequisiteOf(c, from, to);
  if (prerequisite && !isBlocked(origin, rank(prerequisite.version))) {
    relax(origin, rank(prerequisite.version), {
      reason: { code: 'latest-patch-first', text: prerequisite.text },
    });
  } else {
    expand(origin);
  }
  for (let v = search.next(); v !== -1; v = search.next()) {
    if (v === toRank) {
      const steps = search.path(v, versions);
      return { found: true, steps, conditionalStops: onPath(conditionalStops, steps) };
    }
    expand(v);
  }
  return { found: false, blockedBy: [...blockedBy.values()], conditionalStops };
}

/**
 * The conditional stops that concern the chosen path: those it stops at, and those left out
 * because their rule is false. A needed or unknown stop that the path goes past on an edge is
 * dropped: edges may cross stops, so that path is valid whether the stop is needed or not.
 */
function onPath(stops: ConditionalStopOutcome[], steps: PathStep[]): ConditionalStopOutcome[] {
  const reached = new Set(steps.map((s) => s.to));
  return stops.filter((s) => s.value === false || reached.has(s.version));
}

function nanToUndefined(n: number): number | undefined {
  return Number.isNaN(n) ? undefined : n;
}

type Blocked = LoadedCatalog['blocked'][number];
type PatternEdge = LoadedCatalog['edgesByPattern'][number];

/**
 * What the catalog's patterns say about one version (rank): the blocked rules, pattern edges
 * (forward only) and manual steps that start there. Worked out the first time a search visits the
 * version and kept with the loaded catalog, so later plans skip the pattern tests.
 */
interface WaysOut {
  blockedFrom(v: number): readonly Blocked[];
  patternEdgesFrom(v: number): readonly PatternEdge[];
  manualStepsFrom(v: number): readonly ManualEntry[];
}

const waysOutOf = new WeakMap<LoadedCatalog, WaysOut>();

function waysOut(c: LoadedCatalog): WaysOut {
  let w = waysOutOf.get(c);
  if (w) return w;
  const none: never[] = [];
  const byRank = <T>(pick: (version: string, v: number) => T[]) => {
    const memo: (readonly T[] | undefined)[] = new Array(c.versions.length);
    return (v: number): readonly T[] => {
      let found = memo[v];
      if (!found) {
        const picked = pick(c.versions[v] as string, v);
        found = picked.length > 0 ? picked : none;
        memo[v] = found;
      }
      return found;
    };
  };
  w = {
    blockedFrom: byRank((version) => c.blocked.filter((rule) => rule.from.matches(version))),
    patternEdgesFrom: byRank((version, v) =>
      c.edgesByPattern.filter((e) => (c.rank.get(e.to) as number) > v && e.from.matches(version)),
    ),
    manualStepsFrom: byRank((version) => c.manualSteps.filter((m) => m.from.matches(version))),
  };
  waysOutOf.set(c, w);
  return w;
}

/** Explicit exact edges as arrays by rank (compressed rows), built once per loaded catalog. */
interface EdgeGraph {
  start: Int32Array;
  to: Int32Array;
  downtime: Float64Array;
}

const graphs = new WeakMap<LoadedCatalog, EdgeGraph>();

function edgeGraph(c: LoadedCatalog): EdgeGraph {
  let g = graphs.get(c);
  if (g) return g;
  const n = c.versions.length;
  const start = new Int32Array(n + 1);
  let count = 0;
  for (let v = 0; v < n; v++) {
    start[v] = count;
    count += c.edgesFrom.get(c.versions[v] as string)?.length ?? 0;
  }
  start[n] = count;
  const to = new Int32Array(count);
  const downtime = new Float64Array(count);
  for (let v = 0; v < n; v++) {
    let e = start[v] as number;
    for (const edge of c.edgesFrom.get(c.versions[v] as string) ?? []) {
      to[e] = c.rank.get(edge.to) as number;
      downtime[e] = edge.downtimeMinutes ?? Number.NaN;
      e++;
    }
  }
  g = { start, to, downtime };
  graphs.set(c, g);
  return g;
}

/** The steps one hop stands for: a pack application, or a manual step and the install after it. */
function stepsOf(from: string, h: Hop): PathStep[] {
  const m = h.manual?.step;
  if (!m)
    return [{ kind: 'pack', from, to: h.to, reason: h.reason, downtimeMinutes: h.downtimeMinutes }];
  return [
    {
      kind: 'manual',
      from,
      to: null,
      reason: { code: 'manual-step', text: m.detail ?? m.title },
      manual: { id: m.id, title: m.title, detail: m.detail, minutes: m.minutes, link: m.link },
    },
    {
      kind: 'install',
      from: null,
      to: h.to,
      reason: { code: 'after-manual-step', text: `install ${h.to} after: ${m.title}` },
    },
  ];
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
  const target = override?.target ?? latestPatchOf(c, from);
  if (target === undefined || scheme.compare(target, from) <= 0) return undefined;
  const text = override?.reason ?? `be on the latest patch of ${scheme.releaseOf(from)} first`;
  return { version: target, text };
}

const latestPatches = new WeakMap<LoadedCatalog, Map<string, string | undefined>>();

/** The newest level of `version`'s release in the catalog, remembered per loaded catalog. */
function latestPatchOf(c: LoadedCatalog, version: string): string | undefined {
  let byRelease = latestPatches.get(c);
  if (!byRelease) {
    byRelease = new Map();
    latestPatches.set(c, byRelease);
  }
  const release = c.scheme.releaseOf(version);
  if (!byRelease.has(release))
    byRelease.set(release, latestOfRelease(c.scheme, c.versions, version));
  return byRelease.get(release);
}

/**
 * Dijkstra over version ranks with the cost (hops, downtime), compared in that order. Labels live
 * in typed arrays; the heap holds (hops, downtime, vertex) triples and skips stale entries.
 */
class Search {
  private readonly hops: Int32Array;
  private readonly downtime: Float64Array;
  private readonly parent: Int32Array;
  private readonly via: (Omit<Hop, 'to'> | undefined)[];
  private readonly done: Uint8Array;
  private heap: number[] = [];

  constructor(n: number) {
    this.hops = new Int32Array(n).fill(0x7fffffff);
    this.downtime = new Float64Array(n);
    this.parent = new Int32Array(n).fill(-1);
    this.via = new Array(n);
    this.done = new Uint8Array(n);
  }

  relax(v: number, w: number, hopCount: number, seconds: number, hop: Omit<Hop, 'to'>): void {
    if (this.done[w]) return;
    const base = this.parent[v] === -1 && this.via[v] === undefined ? 0 : (this.hops[v] as number);
    const hops = base + hopCount;
    const downtime = (this.via[v] === undefined ? 0 : (this.downtime[v] as number)) + seconds;
    const known = this.hops[w] as number;
    if (hops > known || (hops === known && downtime >= (this.downtime[w] as number))) return;
    this.hops[w] = hops;
    this.downtime[w] = downtime;
    this.parent[w] = v;
    this.via[w] = hop;
    this.push(hops, downtime, w);
  }

  /** The closest vertex not yet settled, or -1. */
  next(): number {
    for (;;) {
      const top = this.pop();
      if (top === undefined) return -1;
      const [hops, downtime, v] = top;
      if (this.done[v] || hops !== this.hops[v] || downtime !== this.downtime[v]) continue;
      this.done[v] = 1;
      return v;
    }
  }

  path(v: number, versions: readonly string[]): PathStep[] {
    const parts: PathStep[][] = [];
    for (let w = v; this.via[w] !== undefined; w = this.parent[w] as number) {
      parts.push(
        stepsOf(versions[this.parent[w] as number] as string, {
          ...(this.via[w] as Omit<Hop, 'to'>),
          to: versions[w] as string,
        }),
      );
    }
    return parts.reverse().flat();
  }

  private less(i: number, j: number): boolean {
    const h = this.heap;
    const a = h[i * 3] as number;
    const b = h[j * 3] as number;
    return a !== b ? a < b : (h[i * 3 + 1] as number) < (h[j * 3 + 1] as number);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    for (let k = 0; k < 3; k++) {
      const t = h[i * 3 + k] as number;
      h[i * 3 + k] = h[j * 3 + k] as number;
      h[j * 3 + k] = t;
    }
  }

  private push(hops: number, downtime: number, v: number): void {
    this.heap.push(hops, downtime, v);
    let i = this.heap.length / 3 - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private pop(): [number, number, number] | undefined {
    const h = this.heap;
    const n = h.length / 3;
    if (n === 0) return undefined;
    const top: [number, number, number] = [h[0] as number, h[1] as number, h[2] as number];
    this.swap(0, n - 1);
    h.length -= 3;
    const size = n - 1;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && this.less(l, m)) m = l;
      if (r < size && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
