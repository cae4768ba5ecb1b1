import type { Duration, Durations, LoadedCatalog, Pack, StepPhase } from '../catalog/index.ts';
import {
  evaluateFormula,
  type Formula,
  isFormulaError,
  lookupFact,
  parseFormula,
} from '../rules/index.ts';
import type { PathStep } from './find-path.ts';
import type { PhaseSeconds } from './schema.ts';

/**
 * Seconds for one phase: the fixed part, each fact-scaled part, and the formula. A missing fact
 * counts as zero (for a formula: the whole formula), and the estimate says so.
 */
export function scaleDuration(d: Duration, facts: unknown, assumptions: Set<string>): number {
  let seconds = d.seconds ?? 0;
  for (const part of d.per ?? []) {
    const fact = lookupFact(facts, part.fact);
    const n = fact.found ? Number(fact.value) : Number.NaN;
    if (Number.isFinite(n)) seconds += (n / part.unit) * part.seconds;
    else assumptions.add(`${part.fact} is unknown; its share of the estimate was counted as 0`);
  }
  if (d.formula !== undefined) {
    const value = evaluateFormula(formulaOf(d.formula), facts);
    if (value.ok) seconds += Math.max(0, value.seconds);
    else {
      for (const m of value.missing)
        assumptions.add(`${m} is unknown; its share of the estimate was counted as 0`);
      if (value.problem) assumptions.add(`${value.problem}; it was counted as 0`);
    }
  }
  return Math.round(seconds);
}

/** Parsed formulas by source: the loader validated each, so parsing here cannot fail. */
const formulas = new Map<string, Formula>();

function formulaOf(source: string): Formula {
  let f = formulas.get(source);
  if (!f) {
    const parsed = parseFormula(source);
    /* v8 ignore next -- unreachable: the catalog loader refuses a formula that does not parse */
    if (isFormulaError(parsed)) throw new Error(`unvalidated formula ${source}`);
    f = parsed;
    formulas.set(source, f);
  }
  return f;
}

/** The catalog's durations with the overrides of the release a hop reaches. */
export function durationsFor(c: LoadedCatalog, to: string | null): Durations {
  const override = to === null ? undefined : c.releases.get(to)?.durations;
  return override ? { ...c.catalog.durations, ...override } : c.catalog.durations;
}

/** Phase estimate of one step of a path. */
export function estimateStep(
  c: LoadedCatalog,
  step: PathStep,
  pack: Pack | null,
  facts: unknown,
  assumptions: Set<string>,
): { phases: PhaseSeconds; downtimeSeconds: number } {
  const phases: PhaseSeconds = { download: 0, stop: 0, apply: 0, migrate: 0, start: 0, manual: 0 };
  const d = durationsFor(c, step.to);
  const phase = (p: StepPhase) => scaleDuration(d[p], facts, assumptions);
  if (step.kind === 'manual') {
    phases.manual = Math.round((step.manual?.minutes ?? 0) * 60);
  } else {
    if (pack) phases.download = Math.round(pack.size / d.downloadBytesPerSecond);
    phases.stop = step.kind === 'pack' ? phase('stop') : 0;
    phases.apply = phase('apply');
    phases.migrate = step.kind === 'pack' ? phase('migrate') : 0;
    phases.start = phase('start');
  }
  const downtimeSeconds =
    step.downtimeMinutes !== undefined
      ? Math.round(step.downtimeMinutes * 60)
      : phases.stop + phases.apply + phases.migrate + phases.start + phases.manual;
  return { phases, downtimeSeconds };
}
