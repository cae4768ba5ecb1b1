import type { CheckResult } from '../checks/types.ts';
import type { LearnedEstimate } from '../estimate/types.ts';
import { describeMethod, type Plan, type Verdict } from '../plan/index.ts';
import type { TrafficProfile } from '../traffic/types.ts';
import { formatBytes, formatDuration, formatValue } from '../util/index.ts';
import type { WindowProposal } from '../window/types.ts';
import { illustrativeBanner, provenanceMarks } from './provenance.ts';
import { verdictText } from './verdict.ts';

/**
 * What a report may be given besides the plan. Each is optional: a section whose input is absent
 * says which command produces it instead of staying silent.
 */
export interface ReportExtras {
  /** The installation the plan was made from: filled into the commands the report suggests. */
  install?: string;
  learned?: LearnedEstimate;
  traffic?: TrafficProfile;
  windows?: WindowProposal[];
  /** Results of `uplift check`, by check id. */
  checks?: { id: string; result: CheckResult }[];
}

/** One fact or value an outcome rests on: `name` = `value`. */
export interface Evidence {
  name: string;
  value: string;
}

export type GraphNodeKind = 'installed' | 'stop' | 'target' | 'conditional' | 'blocked-from';
export type GraphEdgeKind = 'chosen' | 'blocked' | 'conditional';

/** The upgrade path as a graph: the chosen hops, the stops on it, and the ways that are closed. */
export interface GraphModel {
  nodes: { id: string; label: string; kind: GraphNodeKind; note?: string; illustrative: boolean }[];
  edges: { from: string; to: string; kind: GraphEdgeKind; label?: string; illustrative: boolean }[];
}

/** One bar of the downtime timeline: a phase and its duration as a median and a 90th percentile. */
export interface TimelinePhase {
  phase: string;
  p50: number;
  p90: number;
  /** True when clients cannot reach the service during it (stop .. probe). */
  downtime: boolean;
}

export interface TimelineModel {
  /** `plan`: the catalog's figures scaled by facts (one figure: p50 = p90); `learned`: measured runs. */
  source: 'plan' | 'learned';
  basis: string;
  phases: TimelinePhase[];
  downtime: { p50: number; p90: number };
  total: { p50: number; p90: number };
  rollback: { p50: number; p90: number };
  illustrative: boolean;
}

export interface WindowRow {
  rank: number;
  start: number;
  end: number;
  zone: string;
  /** `Sat 2026-12-12 01:00 – 04:15 Europe/Paris`, in the window's own zone. */
  when: string;
  expectedTransfers: number;
  expectedAccounts: number;
  expectedBytes: string;
  reasons: string[];
}

export interface WindowsModel {
  /** Average transfers per week in each 15-minute slot (Monday 00:00 UTC first); absent without traffic. */
  heat?: number[];
  trafficSummary?: string;
  windows?: WindowRow[];
  /** The command that produces what is missing; absent when traffic and windows were both given. */
  howTo?: string;
  /** The window to book, for the how-to. */
  windowSeconds: number;
}

export interface ChecksModel {
  given: boolean;
  rows: {
    id: string;
    status: CheckResult['status'] | 'not run';
    message: string;
    remediation?: string;
  }[];
  howTo?: string;
}

export interface BackoutModel {
  steps: { when: string; what: string }[];
  pointOfNoReturn: string;
  rollbackSeconds: number;
}

/**
 * Everything a change-board report shows, computed once from the plan: the HTML and the Markdown
 * report are two renderings of it, so they cannot drift apart.
 */
export interface ReportModel {
  title: { product: string; from: string; to: string; illustrativeTarget: boolean };
  /** The illustrative-data banner (provenance.ts); absent when the plan is fully sourced. */
  banner?: string;
  verdict: {
    verdict: Verdict;
    text: string;
    reasons: { text: string; illustrative: boolean; missingFacts: string[] }[];
  };
  ids: { profile: string; catalog: string; plan: string };
  channel?: string;
  announced: { version: string; date?: string }[];
  graph: GraphModel;
  steps: {
    index: number;
    title: string;
    why: string;
    settle?: string;
    pack: string;
    packIsFile: boolean;
    downtime: string;
    illustrative: boolean;
    packIllustrative: boolean;
  }[];
  blocked: { from: string; reason: string }[];
  incompatibilities: {
    id: string;
    severity: string;
    where: string;
    title: string;
    outcome: string;
    evidence: Evidence[];
    missingFacts: string[];
    action: string;
    illustrative: boolean;
  }[];
  prerequisites: {
    id: string;
    status: string;
    title: string;
    evidence: Evidence[];
    missingFacts: string[];
    action: string;
    illustrative: boolean;
  }[];
  customizedFiles: { kind: 'changed' | 'added' | 'removed'; file: string }[];
  tasks: { title: string; check?: string; illustrative: boolean }[];
  checks: ChecksModel;
  time: {
    rows: { label: string; value: string; strong?: boolean }[];
    assumptions: string[];
    illustrative: boolean;
  };
  timeline: TimelineModel;
  windows: WindowsModel;
  backout: BackoutModel;
  notes: {
    summary: string;
    entries: {
      type: string;
      id: string;
      security: boolean;
      title: string;
      release: string;
      status: string;
      /** The product component the entry is about, when the notes say (the dashboard filters by it). */
      component?: string;
      source?: string;
      illustrative: boolean;
    }[];
  };
}

/** The report of a plan, with whatever else was given. Pure: no clock, no files. */
export function reportModel(plan: Plan, extras: ReportExtras = {}): ReportModel {
  const m = provenanceMarks(plan);
  const e = plan.estimate;
  const installArg = extras.install ?? 'DIR';
  return {
    title: {
      product: plan.product,
      from: plan.from,
      to: plan.to,
      illustrativeTarget: m.target,
    },
    ...optional('banner', illustrativeBanner(plan)),
    verdict: {
      verdict: plan.verdict,
      text: verdictText[plan.verdict],
      reasons: plan.reasons.map((r) => ({
        text: r.text,
        illustrative: m.reason(r),
        missingFacts: r.missingFacts ?? [],
      })),
    },
    ids: { profile: plan.profile, catalog: plan.catalog.digest, plan: plan.hash },
    ...optional('channel', plan.channel),
    announced: plan.announced ?? [],
    graph: graphOf(plan, m),
    steps: plan.steps.map((s) => ({
      index: s.index,
      title: s.title,
      why: s.reason.text,
      ...optional(
        'settle',
        s.settle
          ? `Then wait until the settle check ${s.settle.check} passes (up to ${formatDuration(s.settle.timeoutSeconds)})${s.settle.reason ? `: ${s.settle.reason}` : ''}`
          : undefined,
      ),
      pack: s.pack
        ? `${s.pack.file} (${formatBytes(s.pack.size)})`
        : s.method
          ? `by ${describeMethod(s.method)}`
          : s.kind === 'manual'
            ? '—'
            : `none: ${s.packProblem ?? ''}`,
      packIsFile: s.pack !== null,
      downtime: formatDuration(s.estimate.downtimeSeconds),
      illustrative: m.step(s.index),
      packIllustrative: m.pack(s.index),
    })),
    blocked: plan.blockedBy.map((b) => ({ from: b.from, reason: b.reason })),
    incompatibilities: plan.incompatibilities
      .filter((i) => i.outcome !== 'does-not-apply')
      .map((i) => ({
        id: i.id,
        severity: i.severity,
        where: i.hop ? `on the hop ${i.hop.from} → ${i.hop.to}` : `from ${i.introducedIn}`,
        title: i.title,
        outcome: i.outcome,
        evidence: evidenceOf(i.evidence),
        missingFacts: i.missingFacts,
        action: i.action,
        illustrative: m.incompatibility.has(i.id),
      })),
    prerequisites: plan.externalPrerequisites
      .filter((p) => p.status !== 'not-applicable')
      .map((p) => ({
        id: p.id,
        status: p.status,
        title: p.title,
        evidence: evidenceOf(p.evidence),
        missingFacts: p.missingFacts,
        action: p.action,
        illustrative: m.prerequisite.has(p.id),
      })),
    customizedFiles: plan.customizedFiles
      ? (['changed', 'added', 'removed'] as const).flatMap((kind) =>
          (plan.customizedFiles?.[kind] ?? []).map((file) => ({ kind, file })),
        )
      : [],
    tasks: plan.tasks.map((t) => ({
      title: t.title,
      ...optional('check', t.check),
      illustrative: m.task.has(t.id),
    })),
    checks: checksOf(plan, extras, installArg),
    time: {
      rows: [
        {
          label: `download (${formatBytes(e.downloadBytes)})`,
          value: formatDuration(e.downloadSeconds),
        },
        { label: 'backup', value: formatDuration(e.backupSeconds) },
        {
          label: `downtime (${e.packHops} hops, ${e.manualSteps} manual)`,
          value: formatDuration(e.downtimeSeconds),
        },
        { label: 'validation', value: formatDuration(e.validationSeconds) },
        { label: 'rollback, if needed', value: formatDuration(e.rollbackSeconds) },
        { label: 'window to book', value: formatDuration(e.windowSeconds), strong: true },
      ],
      assumptions: e.assumptions,
      illustrative: m.estimate,
    },
    timeline: timelineOf(plan, extras.learned, m.estimate),
    windows: windowsOf(plan, extras, installArg),
    backout: backoutOf(plan, extras, installArg),
    notes: {
      summary: `${plan.notes.releases.length} releases read: ${plan.notes.counts.feature} features, ${plan.notes.counts.fixed} fixed issues (${plan.notes.counts.security} security), ${plan.notes.counts.limitation} known limitations; ${plan.notes.counts.applies} concern this installation.`,
      entries: plan.notes.entries.map((n) => ({
        type: n.type,
        id: n.id,
        security: n.security,
        title: n.title,
        release: n.release,
        status: n.status,
        ...optional('component', n.component),
        ...optional('source', n.source ? `${n.source.doc}: ${n.source.section}` : undefined),
        illustrative: n.illustrative === true,
      })),
    },
  };
}

/** `{ key: value }` when the value is defined, `{}` otherwise (exactOptionalPropertyTypes-safe). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function evidenceOf(used: Record<string, unknown>): Evidence[] {
  return Object.entries(used).map(([name, v]) => ({ name, value: formatValue(v) }));
}

type Marks = ReturnType<typeof provenanceMarks>;

function graphOf(plan: Plan, m: Marks): GraphModel {
  const nodes: GraphModel['nodes'] = [];
  const edges: GraphModel['edges'] = [];
  const seen = new Set<string>();
  const node = (n: GraphModel['nodes'][number]) => {
    if (seen.has(n.id)) return;
    seen.add(n.id);
    nodes.push(n);
  };
  node({
    id: plan.from,
    label: plan.from,
    kind: 'installed',
    note: 'installed',
    illustrative: false,
  });
  const last = plan.steps.at(-1);
  for (const s of plan.steps) {
    const to = s.to ?? `(removed after step ${s.index})`;
    const isTarget = s === last;
    node({
      id: to,
      label: to,
      kind: isTarget ? 'target' : 'stop',
      note: isTarget
        ? 'target'
        : s.kind === 'manual'
          ? 'manual step'
          : s.stage === 'prerequisite'
            ? 'latest patch first'
            : 'required stop',
      illustrative: m.step(s.index),
    });
    edges.push({
      from: s.from ?? plan.from,
      to,
      kind: 'chosen',
      label: `${s.index}`,
      illustrative: m.step(s.index),
    });
  }
  if (plan.steps.length === 0 && plan.to !== plan.from)
    node({ id: plan.to, label: plan.to, kind: 'target', note: 'target', illustrative: m.target });
  for (const c of plan.conditionalStops) {
    if (c.outcome === 'applies' && seen.has(c.version)) continue;
    node({
      id: c.version,
      label: c.version,
      kind: 'conditional',
      note: c.outcome === 'unknown' ? 'stop if facts say so' : 'stop not needed here',
      illustrative: false,
    });
    edges.push({
      from: plan.from,
      to: c.version,
      kind: 'conditional',
      label: c.outcome === 'unknown' ? `unknown: ${c.missingFacts.join(', ')}` : 'skipped',
      illustrative: false,
    });
  }
  for (const b of plan.blockedBy) {
    node({ id: b.from, label: b.from, kind: 'blocked-from', note: 'blocked', illustrative: false });
    edges.push({
      from: b.from,
      to: plan.to,
      kind: 'blocked',
      label: 'blocked',
      illustrative: false,
    });
    node({ id: plan.to, label: plan.to, kind: 'target', note: 'target', illustrative: m.target });
  }
  return { nodes, edges };
}

/** The phases the catalog times, in the order apply runs them (docs/apply.md, "The steps of a hop"). */
function timelineOf(
  plan: Plan,
  learned: LearnedEstimate | undefined,
  illustrative: boolean,
): TimelineModel {
  if (learned) {
    const phases = learned.phases.map((p) => ({
      phase: p.phase,
      p50: p.p50,
      p90: p.p90,
      downtime: p.phase !== 'validate',
    }));
    return {
      source: 'learned',
      basis:
        learned.basis.kind === 'measured'
          ? `learned from ${learned.basis.runs} measured run${learned.basis.runs === 1 ? '' : 's'} (${learned.basis.from.join(', ')}), scaled by ${learned.basis.scaledBy.toFixed(2)} for the data volume`
          : "the catalog's figures scaled by the facts (no measured run of these hops yet)",
      phases,
      downtime: learned.downtime,
      total: learned.total,
      rollback: learned.rollback,
      illustrative: learned.basis.kind === 'catalog' && illustrative,
    };
  }
  const sum = (k: 'stop' | 'apply' | 'migrate' | 'start' | 'manual') =>
    plan.steps.reduce((n, s) => n + s.estimate.phases[k], 0);
  const e = plan.estimate;
  const parts: [string, number][] = [
    ['stop', sum('stop')],
    ['switch', sum('apply')],
    ['migrate', sum('migrate')],
    ['start', sum('start')],
  ];
  if (sum('manual') > 0) parts.push(['manual steps', sum('manual')]);
  // A catalog may state a step's downtime as one figure: what its phases leave unexplained.
  const explained = parts.reduce((n, [, s]) => n + s, 0);
  if (e.downtimeSeconds > explained) parts.push(['other', e.downtimeSeconds - explained]);
  // The catalog has no figure for the readiness wait: it is counted in its start.
  parts.push(['probe', 0]);
  const phases: TimelinePhase[] = [
    ...parts.map(([phase, s]) => ({ phase, p50: s, p90: s, downtime: true })),
    { phase: 'validate', p50: e.validationSeconds, p90: e.validationSeconds, downtime: false },
  ];
  const one = (s: number) => ({ p50: s, p90: s });
  return {
    source: 'plan',
    basis:
      "the plan's estimate: the catalog's figures scaled by the facts; one figure, so p50 = p90 (the readiness probe is counted in the start)",
    phases,
    downtime: one(e.downtimeSeconds),
    total: one(e.downtimeSeconds + e.validationSeconds),
    rollback: one(e.rollbackSeconds),
    illustrative,
  };
}

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

function windowsOf(plan: Plan, extras: ReportExtras, installArg: string): WindowsModel {
  const { traffic, windows } = extras;
  const heat = traffic?.slots.map(
    (s, i) => s.transfers / Math.max(1, traffic.weeksCovered[i] ?? 0),
  );
  const missing = [
    ...(traffic ? [] : ['a traffic profile']),
    ...(windows ? [] : ['proposed windows']),
  ];
  return {
    windowSeconds: plan.estimate.windowSeconds,
    ...optional('heat', heat),
    ...optional(
      'trafficSummary',
      traffic
        ? `${traffic.records.toLocaleString('en-US')} transfers read from ${traffic.sources.length} log file${traffic.sources.length === 1 ? '' : 's'}${traffic.from !== undefined && traffic.to !== undefined ? ` (${isoDay(traffic.from)} to ${isoDay(traffic.to)})` : ''}; average transfers per week in each 15-minute slot, UTC${traffic.skipped.count > 0 ? `; ${traffic.skipped.count} lines could not be read` : ''}.`
        : undefined,
    ),
    ...optional(
      'windows',
      windows
        ?.slice()
        .sort((a, b) => a.rank - b.rank)
        .map((w) => ({
          rank: w.rank,
          start: w.start,
          end: w.end,
          zone: w.zone,
          when: windowText(w),
          expectedTransfers: Math.round(w.expectedTransfers),
          expectedAccounts: Math.round(w.expectedAccounts),
          expectedBytes: formatBytes(Math.round(w.expectedBytes)),
          reasons: w.reasons,
        })),
    ),
    ...optional(
      'howTo',
      missing.length > 0
        ? `This report was made without ${missing.join(' or ')}. To choose a quiet window from the service's transfer logs, run: uplift window --install ${installArg} (it takes the window to book from the plan, ${formatDuration(plan.estimate.windowSeconds)}; --log FILE… reads logs kept elsewhere, --calendar blackout.ics and --allowed "Sat-Sun 00:00-06:00 Europe/Paris" narrow the search).`
        : undefined,
    ),
  };
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `Sat 2026-12-12 01:00 – 04:15 (Europe/Paris)`: the window in its own zone. */
function windowText(w: WindowProposal): string {
  const parts = (ms: number) => {
    const f = new Intl.DateTimeFormat('en-GB', {
      timeZone: w.zone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(new Date(ms));
    const get = (t: string) => f.find((p) => p.type === t)?.value ?? '';
    return {
      day: `${get('weekday')} ${get('year')}-${get('month')}-${get('day')}`,
      time: `${get('hour')}:${get('minute')}`,
    };
  };
  const a = parts(w.start);
  const b = parts(w.end);
  return `${a.day} ${a.time} – ${b.day === a.day ? '' : `${b.day} `}${b.time} (${w.zone})`;
}

/** The weekday and time of a slot of the week (UTC), e.g. `Sat 01:45`. */
export function slotText(slot: number): string {
  const minutes = slot * 15;
  const day = weekdays[Math.floor(minutes / 1440)] ?? '?';
  const m = minutes % 1440;
  return `${day} ${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function checksOf(plan: Plan, extras: ReportExtras, installArg: string): ChecksModel {
  if (extras.checks)
    return {
      given: true,
      rows: extras.checks.map((c) => ({
        id: c.id,
        status: c.result.status,
        message: c.result.message,
        ...optional('remediation', c.result.remediation),
      })),
    };
  const ids = [...new Set(plan.tasks.flatMap((t) => (t.check ? [t.check] : [])))];
  return {
    given: false,
    rows: ids.map((id) => ({
      id,
      status: 'not run',
      message: plan.tasks.find((t) => t.check === id)?.title ?? '',
    })),
    howTo: `No check results were given: run uplift check --install ${installArg} before the window, and again with --for downtime at its start.`,
  };
}

function backoutOf(plan: Plan, extras: ReportExtras, installArg: string): BackoutModel {
  const e = plan.estimate;
  const rollback = extras.learned?.rollback.p50 ?? e.rollbackSeconds;
  const hops = plan.steps.length;
  return {
    rollbackSeconds: rollback,
    steps: [
      {
        when: 'before the stop',
        what: `uplift apply backs the installation up (about ${formatDuration(e.backupSeconds)}) and stages the new version; nothing of the installation has changed yet, and cancelling costs nothing.`,
      },
      {
        when: 'from the stop until the readiness probes pass',
        what: `a failure in any step rolls the hop back at once: the old generation is renamed back and the service started as the run found it${hops > 1 ? `; hops of the same run that had committed are taken back too, so the run ends on ${plan.from}` : ''}.`,
      },
      {
        when: 'after the run, during validation',
        what: `if validation fails, run uplift rollback --install ${installArg} --run: it puts back ${plan.from} as it was at the first stop (about ${formatDuration(rollback)}) and keeps what was uploaded since aside.`,
      },
    ],
    pointOfNoReturn: `The end of validation. From the start of ${plan.to}, clients may write to it; a rollback keeps what they wrote aside, not in service, so every minute on ${plan.to} makes backing out costlier. Keep ${plan.to} or back out before validation ends; after that, fix forward.`,
  };
}
