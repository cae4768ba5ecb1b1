import {
  catalogProvenance,
  compilePattern,
  illustrativeReason,
  isIllustrative,
  type LoadedCatalog,
  type Provenance,
  type ProvenanceFields,
  provenanceOf,
  upgradeProvenance,
} from '../catalog/index.ts';
import { evaluateRule, isFormulaError, parseFormula } from '../rules/index.ts';
import type { Plan, PlanProvenance, PlanStep } from './schema.ts';

type Resting = PlanProvenance['target'][number];

/** A release's provenance, its own or the catalog's. */
export function releaseProvenance(c: LoadedCatalog, version: string): Provenance | undefined {
  const r = c.releases.get(version);
  return r ? provenanceOf(r, catalogProvenance(c.catalog)) : catalogProvenance(c.catalog);
}

/**
 * What of the plan rests on illustrative catalog data, part by part, so every view can mark the
 * exact lines and say in a banner when the target, path, estimate or verdict does. Pure.
 */
export function assessProvenance(
  c: LoadedCatalog,
  plan: Omit<Plan, 'hash' | 'provenance'>,
  facts: unknown,
  fromFacts: boolean,
): PlanProvenance {
  const whole = catalogProvenance(c.catalog);
  const rest = (entry: string, p: Provenance | undefined): Resting[] =>
    isIllustrative(p) ? [{ entry, reason: illustrativeReason(p) }] : [];
  const marked = illustrativeFacts(facts);
  const usedFacts = new Map<string, string>();
  /** The illustrative facts among those a rule read, as entries; each is remembered for `facts`. */
  const restingFacts = (used: Iterable<string>): Resting[] =>
    [...used].flatMap((fact) => {
      const reason = marked(fact);
      if (reason === undefined) return [];
      usedFacts.set(fact, reason);
      return [{ entry: `fact ${fact}`, reason }];
    });
  const installed = fromFacts ? restingFacts(['version']) : [];
  const rules = plan.steps.map((s) => ({ index: s.index, rule: ruleOf(c, s) }));
  const target =
    plan.from === plan.to ? [] : rest(`release ${plan.to}`, releaseProvenance(c, plan.to));
  const steps = plan.steps.map((s) => {
    const release = s.to === null ? undefined : c.releases.get(s.to);
    const rp = s.to === null ? undefined : releaseProvenance(c, s.to);
    const pack = s.pack ? release?.packs?.find((p) => p.file === s.pack?.file) : undefined;
    const durations = release?.durations
      ? provenanceOf(release.durations, rp)
      : provenanceOf(c.catalog.durations, whole);
    const rule = rules.find((r) => r.index === s.index)?.rule;
    // A manual step's time is its own `minutes`, which may rest on other grounds than the step.
    const manual = s.manual
      ? (c.catalog.upgrade.manualSteps ?? []).find((m) => m.id === s.manual?.id)
      : undefined;
    const minutes = manual
      ? rest(
          `minutes of manual step ${manual.id}`,
          provenanceOf(manual.minutesProvenance ?? {}, ruleProvenance(c, manual)),
        )
      : [];
    return {
      index: s.index,
      release: s.to === null ? [] : rest(`release ${s.to}`, rp),
      pack: pack ? rest(`pack ${pack.file}`, provenanceOf(pack, rp)) : [],
      durations: [
        ...rest(release?.durations ? `durations of ${s.to}` : 'durations', durations),
        ...minutes,
      ],
      rule: rule ? rest(rule.entry, rule.provenance) : [],
    };
  });
  const unique = (xs: Resting[]) => [...new Map(xs.map((x) => [x.entry, x])).values()];
  const blockedRules = plan.blockedBy.flatMap((b) => {
    const rule = (c.catalog.upgrade.blocked ?? []).find((x) => x.reason === b.reason);
    return rule ? rest(`blocked hop from ${b.from}`, ruleProvenance(c, rule)) : [];
  });
  // Which stops were kept or dropped follows from their conditions' facts.
  const stopFacts = c.stops.flatMap((s) =>
    s.stop.when ? restingFacts(Object.keys(evaluateRule(s.stop.when, facts).used)) : [],
  );
  const path = unique([
    ...installed,
    ...steps.flatMap((s) => [...s.release, ...s.rule]),
    ...blockedRules,
    ...(plan.steps.length > 0 ? stopFacts : []),
  ]);
  // Durations that scale with a fact rest on it as well.
  const scaled = [
    c.catalog.durations,
    ...plan.steps.map((s) => (s.to === null ? undefined : c.releases.get(s.to)?.durations)),
  ]
    .flatMap((d) => (d ? Object.values(d) : []))
    .flatMap((phase) => {
      if (typeof phase !== 'object' || phase === null) return [];
      const { per, formula } = phase as { per?: { fact: string }[]; formula?: string };
      const parsed = formula === undefined ? undefined : parseFormula(formula);
      return [
        ...(per ?? []).map((x) => x.fact),
        ...(parsed && !isFormulaError(parsed) ? parsed.facts : []),
      ];
    });
  const estimate = unique([
    ...(plan.steps.length > 0 ? rest('durations', provenanceOf(c.catalog.durations, whole)) : []),
    ...steps.flatMap((s) => [...s.durations, ...s.pack]),
    ...(plan.steps.length > 0 ? restingFacts(new Set(scaled)) : []),
  ]);
  const byId = <T extends { id: string }>(
    list: readonly T[],
    of: (x: T) => Provenance | undefined,
  ) =>
    list.flatMap((x) =>
      isIllustrative(of(x)) ? [{ id: x.id, reason: illustrativeReason(of(x)) }] : [],
    );
  /** Its outcome rests on an illustrative fact: the line is marked like an illustrative entry. */
  const byEvidence = <T extends { id: string; evidence: Record<string, unknown> }>(
    list: readonly T[],
    counts: (x: T) => boolean,
  ) =>
    list.flatMap((x) => {
      const facts = counts(x) ? restingFacts(Object.keys(x.evidence)) : [];
      return facts.length > 0
        ? [
            {
              id: x.id,
              reason: `rests on ${facts.map((f) => `${f.entry}: ${f.reason}`).join('; ')}`,
            },
          ]
        : [];
    });
  const withEvidence = <T extends { id: string }>(entries: T[], more: T[]) => [
    ...entries,
    ...more.filter((m) => !entries.some((e) => e.id === m.id)),
  ];
  const incompatibilities = withEvidence(
    byId(plan.incompatibilities, (i) => {
      const e = c.catalog.incompatibilities.find((x) => x.id === i.id);
      return e ? provenanceOf(e, whole) : whole;
    }),
    byEvidence(plan.incompatibilities, (i) => i.outcome !== 'does-not-apply'),
  );
  const externalPrerequisites = withEvidence(
    byId(plan.externalPrerequisites, (p) => {
      const e = c.catalog.externalPrerequisites.find((x) => x.id === p.id);
      return e ? provenanceOf(e, whole) : whole;
    }),
    byEvidence(plan.externalPrerequisites, (p) => p.status !== 'not-applicable'),
  );
  const tasks = byId(plan.tasks, (t) => {
    const e = c.catalog.tasks.find((x) => x.id === t.id);
    return e ? provenanceOf(e, whole) : whole;
  });
  // The verdict follows from the path and from what applies of incompatibilities and prerequisites.
  const counted = new Set(
    plan.incompatibilities.filter((i) => i.outcome !== 'does-not-apply').map((i) => i.id),
  );
  const countedPre = new Set(
    plan.externalPrerequisites.filter((p) => p.status !== 'not-applicable').map((p) => p.id),
  );
  const factsOf = (evidence: Record<string, unknown>) => restingFacts(Object.keys(evidence));
  const verdict = unique([
    ...target,
    ...path,
    ...plan.incompatibilities.filter((i) => counted.has(i.id)).flatMap((i) => factsOf(i.evidence)),
    ...plan.externalPrerequisites
      .filter((p) => countedPre.has(p.id))
      .flatMap((p) => factsOf(p.evidence)),
    ...incompatibilities
      .filter((i) => counted.has(i.id))
      .map((i) => ({ entry: `incompatibility ${i.id}`, reason: i.reason })),
    ...externalPrerequisites
      .filter((p) => countedPre.has(p.id))
      .map((p) => ({ entry: `prerequisite ${p.id}`, reason: p.reason })),
  ]);
  return {
    target,
    path,
    estimate,
    verdict,
    steps: steps.filter(
      (s) => s.release.length + s.pack.length + s.durations.length + s.rule.length > 0,
    ),
    facts: [...usedFacts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([fact, reason]) => ({ fact, reason })),
    incompatibilities,
    externalPrerequisites,
    tasks,
  };
}

/**
 * The facts detection marked as resting on an illustrative profile entry
 * (`facts.detection.illustrative`), looked up by path: a mark on a group covers its members.
 */
function illustrativeFacts(facts: unknown): (fact: string) => string | undefined {
  const list = (facts as { detection?: { illustrative?: unknown } } | undefined)?.detection
    ?.illustrative;
  const marks = new Map<string, string>();
  if (Array.isArray(list))
    for (const m of list)
      if (typeof m?.fact === 'string' && typeof m?.reason === 'string') marks.set(m.fact, m.reason);
  return (fact) => {
    const parts = fact.split('.');
    for (let i = parts.length; i > 0; i--) {
      const reason = marks.get(parts.slice(0, i).join('.'));
      if (reason !== undefined) return reason;
    }
    return undefined;
  };
}

/** An upgrade rule's provenance: its own, else the upgrade section's, else the catalog's. */
function ruleProvenance(c: LoadedCatalog, rule: ProvenanceFields): Provenance | undefined {
  return provenanceOf(rule, upgradeProvenance(c.catalog));
}

/**
 * The upgrade rule that put a step on the path, found from the step's reason: a required or
 * conditional stop at its version, the latest-patch target of its release, the edge it follows,
 * or the manual step. A hop straight to the target rests on no rule.
 */
function ruleOf(
  c: LoadedCatalog,
  s: PlanStep,
): { entry: string; provenance: Provenance | undefined } | undefined {
  const up = c.catalog.upgrade;
  const { scheme } = c;
  switch (s.reason.code) {
    case 'required-stop':
    case 'conditional-stop': {
      const stop = c.stops.find((x) => x.version === s.to);
      return (
        stop && {
          entry: `${s.reason.code === 'required-stop' ? 'required' : 'conditional'} stop ${stop.version}`,
          provenance: ruleProvenance(c, stop.stop),
        }
      );
    }
    case 'latest-patch-first': {
      const from = s.from;
      const prerequisite =
        from === null
          ? undefined
          : (up.prerequisites ?? []).find(
              (p) => scheme.releaseOf(p.release) === scheme.releaseOf(from),
            );
      return prerequisite
        ? {
            entry: `latest-patch target ${prerequisite.target}`,
            provenance: ruleProvenance(c, prerequisite),
          }
        : { entry: 'latestPatchFirst', provenance: upgradeProvenance(c.catalog) };
    }
    case 'edge': {
      const from = s.from;
      const to = s.to;
      if (from === null || to === null) return undefined;
      const edge = (up.edges ?? []).find((e) => {
        const pattern = compilePattern(e.from, scheme);
        return (
          typeof pattern !== 'string' && scheme.compare(e.to, to) === 0 && pattern.matches(from)
        );
      });
      return edge && { entry: `edge ${from} → ${to}`, provenance: ruleProvenance(c, edge) };
    }
    case 'manual-step':
    case 'after-manual-step': {
      const m = (up.manualSteps ?? []).find(
        (x) =>
          x.id === s.manual?.id ||
          (s.reason.code === 'after-manual-step' &&
            x.continueAt !== undefined &&
            s.reason.text.endsWith(x.title)),
      );
      return m && { entry: `manual step ${m.id}`, provenance: ruleProvenance(c, m) };
    }
    default:
      return undefined;
  }
}
