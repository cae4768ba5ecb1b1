import {
  catalogProvenance,
  illustrativeReason,
  isIllustrative,
  type LoadedCatalog,
  type Provenance,
  provenanceOf,
} from '../catalog/index.ts';
import type { Plan, PlanProvenance } from './schema.ts';

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
): PlanProvenance {
  const whole = catalogProvenance(c.catalog);
  const rest = (entry: string, p: Provenance | undefined): Resting[] =>
    isIllustrative(p) ? [{ entry, reason: illustrativeReason(p) }] : [];
  const target =
    plan.from === plan.to ? [] : rest(`release ${plan.to}`, releaseProvenance(c, plan.to));
  const steps = plan.steps.map((s) => {
    const release = s.to === null ? undefined : c.releases.get(s.to);
    const rp = s.to === null ? undefined : releaseProvenance(c, s.to);
    const pack = s.pack ? release?.packs?.find((p) => p.file === s.pack?.file) : undefined;
    const durations = release?.durations
      ? provenanceOf(release.durations, rp)
      : provenanceOf(c.catalog.durations, whole);
    return {
      index: s.index,
      release: s.to === null ? [] : rest(`release ${s.to}`, rp),
      pack: pack ? rest(`pack ${pack.file}`, provenanceOf(pack, rp)) : [],
      durations: rest(release?.durations ? `durations of ${s.to}` : 'durations', durations),
    };
  });
  const unique = (xs: Resting[]) => [...new Map(xs.map((x) => [x.entry, x])).values()];
  const path = unique(steps.flatMap((s) => s.release));
  const estimate = unique([
    ...(plan.steps.length > 0 ? rest('durations', provenanceOf(c.catalog.durations, whole)) : []),
    ...steps.flatMap((s) => [...s.durations, ...s.pack]),
  ]);
  const byId = <T extends { id: string }>(
    list: readonly T[],
    of: (x: T) => Provenance | undefined,
  ) =>
    list.flatMap((x) =>
      isIllustrative(of(x)) ? [{ id: x.id, reason: illustrativeReason(of(x)) }] : [],
    );
  const incompatibilities = byId(plan.incompatibilities, (i) => {
    const e = c.catalog.incompatibilities.find((x) => x.id === i.id);
    return e ? provenanceOf(e, whole) : whole;
  });
  const externalPrerequisites = byId(plan.externalPrerequisites, (p) => {
    const e = c.catalog.externalPrerequisites.find((x) => x.id === p.id);
    return e ? provenanceOf(e, whole) : whole;
  });
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
  const verdict = unique([
    ...target,
    ...path,
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
    steps: steps.filter((s) => s.release.length + s.pack.length + s.durations.length > 0),
    incompatibilities,
    externalPrerequisites,
    tasks,
  };
}
