import type { Durations, StepPhase } from '../catalog/index.ts';
import type { Plan } from '../plan/index.ts';
import type { LearnedEstimate, Spread } from './types.ts';
import { phaseVolume } from './volume.ts';

/** One hop of an earlier run, as measured by apply (history.jsonl, a run's journal, the state store). */
export interface HopSample {
  from: string;
  to: string;
  /** Where it was measured, for `basis.from`: `<install> run <runId>`. */
  source: string;
  /** The apply run it was measured in: one run seen in two places (history, store) counts once. */
  runId?: string;
  /** When the run started (ISO). */
  at: string;
  /** Seconds per apply step (verify, stage, backup, stop, switch, migrate, start, probe, smoke, commit). */
  stepSeconds: Record<string, number>;
  /** Seconds from the stop until the new version passed its readiness probes. */
  downtimeSeconds?: number;
  /** The data-volume facts the run planned with (fact path -> value; src/estimate/volume.ts). */
  volume: Record<string, number>;
}

/** One measured `uplift rollback` of a hop: seconds from its stop until the old version was ready. */
export interface RollbackSample {
  from: string;
  to: string;
  source: string;
  at: string;
  seconds: number;
  volume: Record<string, number>;
}

export interface LearnInput {
  /** The plan the estimate is for: its pack steps are the hops. */
  plan: Pick<Plan, 'steps' | 'estimate'>;
  /** The catalog's durations of the hop that reaches `to` (src/estimate/volume.ts `hopDurations`). */
  durations: (to: string) => Durations;
  /** The data-volume facts of the installation the estimate is for. */
  volume: Record<string, number>;
  samples: readonly HopSample[];
  rollbacks?: readonly RollbackSample[];
}

/** The steps between the stop and the end of the readiness probes: the downtime a client sees. */
const downtimeSteps = new Set([
  'stop',
  'switch',
  'installer-update',
  'product-update',
  'migrate',
  'start',
  'probe',
]);

/** Which catalog phase times an apply step (and so which facts it scales with); others are fixed. */
const catalogPhaseOf: Record<string, StepPhase> = {
  backup: 'backup',
  stop: 'stop',
  switch: 'apply',
  'installer-update': 'apply',
  'product-update': 'apply',
  migrate: 'migrate',
  start: 'start',
};

/** The phases of the report's timeline, and the apply steps each one sums. */
const timeline: [string, string[]][] = [
  ['stop', ['stop']],
  ['switch', ['switch', 'installer-update', 'product-update']],
  ['migrate', ['migrate']],
  ['start', ['start']],
  ['probe', ['probe']],
];

/** The p90 of one measurement: its p50 times this (docs/estimates.md, "Spread"). */
export const singleSampleSpread = 1.3;
/** The p90 of a catalog figure nobody measured: its p50 times this. */
export const catalogSpread = 1.5;

/**
 * The learned estimate of a plan (pure). For each hop with measured samples, each step's seconds
 * are scaled to this installation's data volume (the catalog phase's `per` facts: a least-squares
 * line through the samples when their volumes differ, else proportional), summed per sample, and
 * the samples' spread gives p50 and p90. A hop with no sample keeps the catalog's figures. Hops
 * add up p50 to p50 and p90 to p90.
 */
export function learnEstimate(input: LearnInput): LearnedEstimate {
  const hops = input.plan.steps
    .filter((s) => s.kind === 'pack' && s.from && s.to)
    .map((s) => ({ from: s.from as string, to: s.to as string, step: s }));
  const validation = input.plan.estimate.validationSeconds;
  const sum = { downtime: zero(), total: zero(), smoke: zero(), rollback: zero() };
  const phases = new Map<string, Spread>(timeline.map(([p]) => [p, zero()]));
  const sources = new Set<string>();
  const runs = new Set<string>();
  let measured = 0;
  const scale = { target: 0, samples: 0 };
  // Apply backs the installation up before each hop; the plan's rollback figure is for the run.
  const backupPerHop = input.plan.estimate.backupSeconds;
  let rollbackMeasured = hops.length > 0;

  for (const h of hops) {
    const d = input.durations(h.to);
    const samples = input.samples.filter((s) => s.from === h.from && s.to === h.to);
    const rollbacks = (input.rollbacks ?? []).filter((s) => s.from === h.from && s.to === h.to);
    if (rollbacks.length > 0)
      add(
        sum.rollback,
        spreadOf(
          scaleSeries(
            rollbacks.map((r) => ({ seconds: r.seconds, volume: r.volume })),
            d.rollback,
            input.volume,
          ).values,
        ),
      );
    else rollbackMeasured = false;
    for (const r of rollbacks) sources.add(r.source);
    if (samples.length === 0) {
      const e = h.step.estimate;
      add(sum.downtime, catalogFigure(e.downtimeSeconds));
      add(sum.total, catalogFigure(e.downtimeSeconds + backupPerHop));
      add(phases.get('stop') as Spread, catalogFigure(e.phases.stop));
      add(phases.get('switch') as Spread, catalogFigure(e.phases.apply + e.phases.manual));
      add(phases.get('migrate') as Spread, catalogFigure(e.phases.migrate));
      add(phases.get('start') as Spread, catalogFigure(e.phases.start));
      continue;
    }
    measured++;
    for (const s of samples) {
      sources.add(s.source);
      runs.add(s.source);
    }
    // Each step scaled on its own; per sample, the scaled steps add up to that run's prediction.
    const steps = [...new Set(samples.flatMap((s) => Object.keys(s.stepSeconds)))];
    const predicted = samples.map(() => new Map<string, number>());
    for (const step of steps) {
      const phase = catalogPhaseOf[step];
      const series = scaleSeries(
        samples.map((s) => ({ seconds: s.stepSeconds[step] ?? 0, volume: s.volume })),
        phase ? d[phase] : undefined,
        input.volume,
      );
      for (const [i, v] of series.values.entries()) predicted[i]?.set(step, v);
      if (series.scaled) {
        scale.target += series.scaled.target;
        scale.samples += series.scaled.samples;
      }
    }
    const downtimes = samples.map((s, i) => {
      const p = predicted[i] as Map<string, number>;
      const measuredSteps = sumSteps(s.stepSeconds, (k) => downtimeSteps.has(k));
      // What the steps' own timers do not see (journal writes between them) is kept as measured.
      const overhead = Math.max(0, (s.downtimeSeconds ?? measuredSteps) - measuredSteps);
      return sumSteps(Object.fromEntries(p), (k) => downtimeSteps.has(k)) + overhead;
    });
    add(sum.downtime, spreadOf(downtimes));
    add(
      sum.total,
      spreadOf(
        predicted.map((p, i) => {
          const rest = sumSteps(Object.fromEntries(p), (k) => !downtimeSteps.has(k));
          return (downtimes[i] as number) + rest;
        }),
      ),
    );
    for (const [phase, of] of timeline)
      add(
        phases.get(phase) as Spread,
        spreadOf(predicted.map((p) => of.reduce((t, k) => t + (p.get(k) ?? 0), 0))),
      );
    add(sum.smoke, spreadOf(predicted.map((p) => p.get('smoke') ?? 0)));
  }

  const validate = { p50: validation + sum.smoke.p50, p90: validation + sum.smoke.p90 };
  const rollback = rollbackMeasured
    ? sum.rollback
    : catalogFigure(input.plan.estimate.rollbackSeconds);
  return {
    hops: hops.map(({ from, to }) => ({ from, to })),
    downtime: rounded(sum.downtime),
    total: rounded(sum.total),
    validate: rounded(validate),
    rollback: rounded(rollback),
    phases: [
      ...timeline.map(([phase]) => ({ phase, ...rounded(phases.get(phase) as Spread) })),
      { phase: 'validate', ...rounded(validate) },
    ],
    basis:
      measured === 0
        ? { kind: 'catalog' }
        : {
            kind: 'measured',
            runs: runs.size,
            scaledBy: scale.samples > 0 ? round3(scale.target / scale.samples) : 1,
            from: [...sources].sort(),
          },
  };
}

/**
 * Measured seconds of one step (or rollback) scaled to the target's data volume. Without a `per`
 * part, or with a volume that cannot be worked out, the measurements are kept as they are. With
 * samples at two or more volumes, a least-squares line `a + b x volume` (a, b >= 0) moves each
 * sample along the slope to the target volume, keeping its own noise; at one volume, each sample
 * is scaled by the ratio of volumes (its fixed part at measured scale taken as nil).
 */
export function scaleSeries(
  points: readonly { seconds: number; volume: Record<string, number> }[],
  duration: Durations[StepPhase] | undefined,
  target: Record<string, number>,
): { values: number[]; scaled?: { target: number; samples: number } } {
  const vt = phaseVolume(duration, target);
  const vs = points.map((p) => phaseVolume(duration, p.volume));
  if (vt === undefined || vs.some((v) => v === undefined || v <= 0))
    return { values: points.map((p) => p.seconds) };
  const xs = vs as number[];
  const ys = points.map((p) => p.seconds);
  const slope = slopeOf(xs, ys);
  const values = ys.map((y, i) => {
    const x = xs[i] as number;
    return slope === undefined ? (y * vt) / x : Math.max(0, y + slope * (vt - x));
  });
  return { values, scaled: { target: vt * xs.length, samples: sum(xs) } };
}

/** The least-squares slope through the points (a, b >= 0), or undefined when all x are equal. */
function slopeOf(xs: number[], ys: number[]): number | undefined {
  const mx = sum(xs) / xs.length;
  const my = sum(ys) / ys.length;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  if (sxx <= 1e-12 * mx * mx) return undefined;
  const b = Math.max(0, sxy / sxx);
  // A negative intercept means the fixed part is nil: the line through the origin instead.
  if (my - b * mx >= 0) return b;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] as number) * (ys[i] as number);
    den += (xs[i] as number) ** 2;
  }
  return num / den;
}

/**
 * p50 and p90 of predictions: with one, p90 is p50 x {@link singleSampleSpread}; with several,
 * the empirical quantiles (linear interpolation between order statistics).
 */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return zero();
  if (values.length === 1) {
    const v = values[0] as number;
    return { p50: v, p90: v * singleSampleSpread };
  }
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9) };
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

function catalogFigure(seconds: number): Spread {
  return { p50: seconds, p90: seconds * catalogSpread };
}

function sumSteps(steps: Record<string, number>, keep: (step: string) => boolean): number {
  let t = 0;
  for (const [k, v] of Object.entries(steps)) if (keep(k)) t += v;
  return t;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function zero(): Spread {
  return { p50: 0, p90: 0 };
}

function add(to: Spread, s: Spread): void {
  to.p50 += s.p50;
  to.p90 += s.p90;
}

function rounded(s: Spread): Spread {
  return { p50: round3(s.p50), p90: round3(Math.max(s.p50, s.p90)) };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
