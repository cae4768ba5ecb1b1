import type { HopIncompatibility, Incompatibility, LoadedCatalog } from '../catalog/index.ts';
import { evaluateRule, type Rule, type RuleOutcome } from '../rules/index.ts';
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

/** A hop-scoped incompatibility that matches a hop of the chosen path, with its rule's outcome. */
export interface HopIncompatibilityOutcome {
  /** The hop: the version it leaves and the version it reaches (after a manual step: installs). */
  from: string;
  to: string;
  incompatibility: Incompatibility;
  value: RuleOutcome['value'];
  missing: string[];
  used: Record<string, unknown>;
}

/** A hop of the chosen path on a conditional edge whose rule is unknown. */
export interface UncertainEdge {
  from: string;
  to: string;
  missing: string[];
}

export type PathResult =
  | {
      found: true;
      steps: PathStep[];
      conditionalStops: ConditionalStopOutcome[];
      hopIncompatibilities: HopIncompatibilityOutcome[];
      uncertainEdges: UncertainEdge[];
    }
  | {
      found: false;
      blockedBy: { from: string; reason: string; link?: string }[];
      conditionalStops: ConditionalStopOutcome[];
    };

/** Estimated downtime of one hop in seconds; a tie-break between paths with equal hop counts. */
export type HopCost = (step: PathStep) => number;

type ManualEntry = LoadedCatalog['manualSteps'][number];
type Prefer = LoadedCatalog['catalog']['upgrade']['prefer'];

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
  /** The missing facts of a conditional edge whose rule is unknown. */
  uncertain?: string[];
}

const edgeReason: PathStep['reason'] = { code: 'edge', text: 'an allowed upgrade edge' };
const targetReason: PathStep['reason'] = { code: 'target', text: 'the target version' };
const none: never[] = [];

/**
 * Finds the upgrade path from `from` to `to` (both in the catalog's spelling, from < to). Pure.
 *
 * Hops come from the required stops (a hop may not skip an active stop), from explicit edges (the
 * vendor's own statement, so they may cross a stop; docs/catalog.md), and from manual steps out of
 * blocked versions; blocked hops are removed, and so are conditional edges whose rule is false and
 * hops that a blocking hop-scoped incompatibility hits. "Latest patch first" is preferred where a
 * hop allows it. Among the remaining paths: fewest risky hops (an unknown conditional edge, a hop
 * an incompatibility hits or may hit), then fewest hops, then the catalog's `prefer`.
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
  // `hi` > `rank` for a stop any level of a release meets (take: any-patch).
  const stops: { rank: number; hi: number; reason: PathStep['reason'] }[] = [];
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
      rank: at,
      hi: rank(s.upTo ?? s.version),
      reason: { code: conditional ? 'conditional-stop' : 'required-stop', text },
    });
  }
  const { versions } = c;
  const graph = edgeGraph(c);

  // Facts are fixed for one plan, so each rule is evaluated once however many hops name it.
  const outcomes = new Map<Rule, RuleOutcome>();
  const judgeRule = (rule: Rule): RuleOutcome => {
    let o = outcomes.get(rule);
    if (!o) {
      o = evaluateRule(rule, facts);
      outcomes.set(rule, o);
    }
    return o;
  };
  const always: RuleOutcome = { value: true, missing: [], used: {} };
  const incOutcome = (h: HopIncompatibility) =>
    h.incompatibility.when ? judgeRule(h.incompatibility.when) : always;

  const blockedBy = new Map<string, { from: string; reason: string; link?: string }>();
  const block = (v: number, reason: string, link?: string) => {
    const version = versions[v] as string;
    blockedBy.set(`${version}\u0000${reason}`, { from: version, reason, link });
  };
  const out = waysOut(c);
  const isBlocked = (a: number, b: number): boolean => {
    for (const rule of out.blockedFrom(a)) {
      if (!rule.to || rule.to.matches(versions[b] as string)) {
        block(a, rule.reason, rule.link);
        return true;
      }
    }
    return false;
  };
  /** 0 or 1 risky hop, or -1 when the hop must not be taken for these facts. */
  const riskOf = (v: number, w: number, when: Rule | undefined): number => {
    let risk = 0;
    if (when) {
      const o = judgeRule(when).value;
      if (o === false) return -1;
      if (o === 'unknown') risk = 1;
    }
    for (const h of out.hopIncompatibilitiesFrom(v)) {
      if (!h.to.matches(versions[w] as string)) continue;
      const { value } = incOutcome(h);
      const inc = h.incompatibility;
      if (value === true && inc.severity === 'blocking') {
        block(v, `${inc.title}: ${inc.action}`, inc.link);
        return -1;
      }
      if (value !== false && inc.severity !== 'info') risk = 1;
    }
    return risk;
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

  let search = new Search(versions.length, c.catalog.upgrade.prefer);
  /** When set, only hops to this rank are offered, under this reason (latest patch first). */
  let only: { rank: number; reason: PathStep['reason'] } | undefined;
  /** Offers the hop v → w; `when` is the rule of the conditional edge it takes, if any. */
  const relax = (
    v: number,
    w: number,
    hop: Omit<Hop, 'to'>,
    downtimeMinutes = Number.NaN,
    when?: Rule,
  ) => {
    if (only && (v !== origin || w !== only.rank)) return;
    // A manual step is the way out of a blocked version, so blocked rules do not apply to it.
    if (w > toRank || (!hop.manual && isBlocked(v, w))) return;
    const risk = riskOf(v, w, when);
    if (risk < 0) return;
    let offered = only ? { ...hop, reason: only.reason } : hop;
    if (when && risk > 0) offered = { ...offered, uncertain: judgeRule(when).missing };
    const seconds = costOf(v, w, downtimeMinutes, hop.manual);
    search.relax(v, w, hop.manual ? 2 : 1, risk, seconds, offered);
  };
  const expand = (v: number) => {
    if (useStops) {
      const s = stops.find((x) => x.rank > v);
      // Every level an any-patch stop allows is a way on; the usual order of paths chooses.
      if (s && s.rank < toRank)
        for (let w = Math.min(s.hi, toRank); w >= s.rank; w--)
          relax(v, w, { reason: w === toRank ? targetReason : s.reason });
      else relax(v, toRank, { reason: targetReason });
    }
    for (let e = graph.start[v] as number; e < (graph.start[v + 1] as number); e++) {
      relax(
        v,
        graph.to[e] as number,
        { reason: edgeReason, downtimeMinutes: nanToUndefined(graph.downtime[e] as number) },
        graph.downtime[e],
        graph.when[e],
      );
    }
    for (const e of out.patternEdgesFrom(v))
      relax(
        v,
        rank(e.to),
        { reason: edgeReason, downtimeMinutes: e.downtimeMinutes },
        e.downtimeMinutes,
        e.when,
      );
    for (const m of out.manualStepsFrom(v))
      relax(v, rank(m.continueAt), { reason: edgeReason, manual: m });
  };
  const run = (seed: () => void) => {
    search = new Search(versions.length, c.catalog.upgrade.prefer);
    search.start(origin);
    seed();
    only = undefined;
    for (let v = search.next(); v !== -1; v = search.next()) {
      if (v === toRank) return { risk: search.riskOf(v), hops: search.hopsTo(v, versions) };
      expand(v);
    }
    return undefined;
  };

  // Latest patch first is preferred, not forced: in an edge-only graph it needs an edge to the
  // latest patch, and a latest patch with no way on leaves the other ways out of the installed
  // version open (docs/catalog.md, "latestPatchFirst").
  const prerequisite = prerequisiteOf(c, from, to);
  let best: ReturnType<typeof run>;
  if (prerequisite) {
    const reason: PathStep['reason'] = { code: 'latest-patch-first', text: prerequisite.text };
    const target = rank(prerequisite.version);
    best = run(() => {
      if (useStops) relax(origin, target, { reason });
      else {
        only = { rank: target, reason };
        expand(origin);
      }
    });
  }
  if (!best || best.risk > 0) {
    const direct = run(() => expand(origin));
    if (direct && (!best || direct.risk < best.risk)) best = direct;
  }
  if (!best) return { found: false, blockedBy: [...blockedBy.values()], conditionalStops };

  const steps = best.hops.flatMap((h) => stepsOf(versions[h.from] as string, h.hop));
  const hopIncompatibilities: HopIncompatibilityOutcome[] = [];
  const uncertainEdges: UncertainEdge[] = [];
  for (const h of best.hops) {
    const hopFrom = versions[h.from] as string;
    if (h.hop.uncertain)
      uncertainEdges.push({ from: hopFrom, to: h.hop.to, missing: h.hop.uncertain });
    for (const inc of out.hopIncompatibilitiesFrom(h.from)) {
      if (!inc.to.matches(h.hop.to)) continue;
      const o = incOutcome(inc);
      hopIncompatibilities.push({
        from: hopFrom,
        to: h.hop.to,
        incompatibility: inc.incompatibility,
        value: o.value,
        missing: o.missing,
        used: o.used,
      });
    }
  }
  return {
    found: true,
    steps,
    conditionalStops: onPath(conditionalStops, steps),
    hopIncompatibilities,
    uncertainEdges,
  };
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
 * (forward only), manual steps and hop-scoped incompatibilities that start there. Worked out the
 * first time a search visits the version and kept with the loaded catalog, so later plans skip
 * the pattern tests.
 */
interface WaysOut {
  blockedFrom(v: number): readonly Blocked[];
  patternEdgesFrom(v: number): readonly PatternEdge[];
  manualStepsFrom(v: number): readonly ManualEntry[];
  hopIncompatibilitiesFrom(v: number): readonly HopIncompatibility[];
}

const waysOutOf = new WeakMap<LoadedCatalog, WaysOut>();

function waysOut(c: LoadedCatalog): WaysOut {
  let w = waysOutOf.get(c);
  if (w) return w;
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
  const hopIncompatibilities = c.hopIncompatibilities ?? none;
  w = {
    blockedFrom: byRank((version) => c.blocked.filter((rule) => rule.from.matches(version))),
    patternEdgesFrom: byRank((version, v) =>
      c.edgesByPattern.filter((e) => (c.rank.get(e.to) as number) > v && e.from.matches(version)),
    ),
    manualStepsFrom: byRank((version) => c.manualSteps.filter((m) => m.from.matches(version))),
    hopIncompatibilitiesFrom:
      hopIncompatibilities.length === 0
        ? () => none
        : byRank((version) => hopIncompatibilities.filter((h) => h.from.matches(version))),
  };
  waysOutOf.set(c, w);
  return w;
}

/** Explicit exact edges as arrays by rank (compressed rows), built once per loaded catalog. */
interface EdgeGraph {
  start: Int32Array;
  to: Int32Array;
  downtime: Float64Array;
  /** The rule of a conditional edge, by edge index. */
  when: (Rule | undefined)[];
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
  const when: (Rule | undefined)[] = new Array(count);
  for (let v = 0; v < n; v++) {
    let e = start[v] as number;
    for (const edge of c.edgesFrom.get(c.versions[v] as string) ?? []) {
      to[e] = c.rank.get(edge.to) as number;
      downtime[e] = edge.downtimeMinutes ?? Number.NaN;
      when[e] = edge.when;
      e++;
    }
  }
  g = { start, to, downtime, when };
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
 * Dijkstra over version ranks. A label is (risky hops, hops), then the catalog's preference
 * (`least-downtime`: downtime, then the higher stops; `highest-stops`/`lowest-stops`: the stops
 * compared from the first hop on, then downtime). Every hop adds at least one hop and no negative
 * risk, so a label can improve only through a vertex with a smaller (risk, hops): any order among
 * equal (risk, hops) settles correct labels, and the tie-breaks are decided in `relax`. The heap
 * still orders by downtime third, which settles the target sooner. Labels live in typed arrays;
 * the heap holds (risk, hops, downtime, vertex) and skips stale entries.
 */
class Search {
  private readonly risk: Int32Array;
  private readonly hops: Int32Array;
  private readonly downtime: Float64Array;
  private readonly parent: Int32Array;
  private readonly via: (Omit<Hop, 'to'> | undefined)[];
  private readonly done: Uint8Array;
  private readonly prefer: Prefer;
  private heap: number[] = [];

  constructor(n: number, prefer: Prefer) {
    this.risk = new Int32Array(n).fill(0x7fffffff);
    this.hops = new Int32Array(n).fill(0x7fffffff);
    this.downtime = new Float64Array(n);
    this.parent = new Int32Array(n).fill(-1);
    this.via = new Array(n);
    this.done = new Uint8Array(n);
    this.prefer = prefer;
  }

  /** Settles the origin; the caller offers its ways out (all of them, or the preferred one). */
  start(origin: number): void {
    this.risk[origin] = 0;
    this.hops[origin] = 0;
    this.downtime[origin] = 0;
    this.done[origin] = 1;
  }

  relax(
    v: number,
    w: number,
    hopCount: number,
    hopRisk: number,
    seconds: number,
    hop: Omit<Hop, 'to'>,
  ): void {
    if (this.done[w]) return;
    const risk = (this.risk[v] as number) + hopRisk;
    const hops = (this.hops[v] as number) + hopCount;
    const downtime = (this.downtime[v] as number) + seconds;
    if (!this.isBetter(v, risk, hops, downtime, w)) return;
    this.risk[w] = risk;
    this.hops[w] = hops;
    this.downtime[w] = downtime;
    this.parent[w] = v;
    this.via[w] = hop;
    this.push(risk, hops, downtime, w);
  }

  riskOf(v: number): number {
    return this.risk[v] as number;
  }

  /** The closest vertex not yet settled, or -1. */
  next(): number {
    for (;;) {
      const top = this.pop();
      if (top === undefined) return -1;
      const [risk, hops, downtime, v] = top;
      if (
        this.done[v] ||
        risk !== this.risk[v] ||
        hops !== this.hops[v] ||
        downtime !== this.downtime[v]
      )
        continue;
      this.done[v] = 1;
      return v;
    }
  }

  /** The hops of the path to `v`, first to last. */
  hopsTo(v: number, versions: readonly string[]): { from: number; hop: Hop }[] {
    const out: { from: number; hop: Hop }[] = [];
    for (let w = v; this.via[w] !== undefined; w = this.parent[w] as number) {
      const hop = { ...(this.via[w] as Omit<Hop, 'to'>), to: versions[w] as string };
      out.push({ from: this.parent[w] as number, hop });
    }
    return out.reverse();
  }

  /** Whether reaching `w` from `v` with this label beats the label `w` has. */
  private isBetter(v: number, risk: number, hops: number, downtime: number, w: number): boolean {
    if (risk !== this.risk[w]) return risk < (this.risk[w] as number);
    if (hops !== this.hops[w]) return hops < (this.hops[w] as number);
    const known = this.downtime[w] as number;
    if (this.prefer === 'least-downtime') {
      if (downtime !== known) return downtime < known;
      return this.compareStops(v, this.parent[w] as number) > 0;
    }
    const order = this.compareStops(v, this.parent[w] as number);
    if (order !== 0) return this.prefer === 'highest-stops' ? order > 0 : order < 0;
    return downtime < known;
  }

  /**
   * The versions the paths to `a` and to `b` stop at, after the installed version and up to
   * `a` and `b` themselves, compared from the first hop on: > 0 when `a`'s are higher.
   */
  private compareStops(a: number, b: number): number {
    // Walked back in step from the ends, the last difference seen is the first from the start;
    // once the two paths meet they share the rest. Paths of different lengths (a manual step
    // counts two hops but stops once) compare equal here and leave it to downtime.
    let diff = 0;
    for (let x = a, y = b; x !== y; x = this.parent[x] as number, y = this.parent[y] as number) {
      if (this.via[x] === undefined || this.via[y] === undefined) return 0;
      diff = x - y;
    }
    return diff;
  }

  private less(i: number, j: number): boolean {
    const h = this.heap;
    for (let k = 0; k < 3; k++) {
      const a = h[i * 4 + k] as number;
      const b = h[j * 4 + k] as number;
      if (a !== b) return a < b;
    }
    return false;
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    for (let k = 0; k < 4; k++) {
      const t = h[i * 4 + k] as number;
      h[i * 4 + k] = h[j * 4 + k] as number;
      h[j * 4 + k] = t;
    }
  }

  private push(risk: number, hops: number, downtime: number, v: number): void {
    this.heap.push(risk, hops, downtime, v);
    let i = this.heap.length / 4 - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private pop(): [number, number, number, number] | undefined {
    const h = this.heap;
    const n = h.length / 4;
    if (n === 0) return undefined;
    const top: [number, number, number, number] = [
      h[0] as number,
      h[1] as number,
      h[2] as number,
      h[3] as number,
    ];
    this.swap(0, n - 1);
    h.length -= 4;
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
