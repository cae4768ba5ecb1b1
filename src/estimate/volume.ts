import type { Duration, Durations, LoadedCatalog } from '../catalog/index.ts';
import { lookupFact } from '../rules/index.ts';

/**
 * The data-volume facts a catalog's durations scale with: every fact a `per` part names, in the
 * catalog's own durations and in each release's overrides, with its numeric value in `facts`.
 * A fact that is missing or not a number is left out. Formulas are not read: a phase timed by a
 * formula is learned unscaled (docs/estimates.md).
 */
export function volumeFacts(c: LoadedCatalog, facts: unknown): Record<string, number> {
  const names = new Set<string>();
  const collect = (d: Partial<Record<string, unknown>> | undefined) => {
    for (const v of Object.values(d ?? {}))
      for (const part of (v as Duration | undefined)?.per ?? []) names.add(part.fact);
  };
  collect(c.catalog.durations as unknown as Record<string, unknown>);
  for (const r of c.releases.values())
    collect(r.durations as unknown as Record<string, unknown> | undefined);
  const out: Record<string, number> = {};
  for (const name of [...names].sort()) {
    const f = lookupFact(facts, name);
    const n = f.found ? Number(f.value) : Number.NaN;
    if (f.found && f.value !== null && f.value !== '' && Number.isFinite(n)) out[name] = n;
  }
  return out;
}

/** The catalog's durations for a hop that reaches `to`: its release's overrides over the defaults. */
export function hopDurations(c: LoadedCatalog, to: string): Durations {
  const override = c.releases.get(to)?.durations;
  return override ? { ...c.catalog.durations, ...override } : c.catalog.durations;
}

/**
 * The data volume of one phase, in the catalog's seconds: the sum of its `per` parts, each
 * `value / unit x seconds`. Undefined when the phase has no `per` part (it does not scale with
 * data) or when one of its facts is missing from `volume` (it cannot be scaled).
 */
export function phaseVolume(
  d: Duration | undefined,
  volume: Record<string, number>,
): number | undefined {
  const per = d?.per ?? [];
  if (per.length === 0) return undefined;
  let v = 0;
  for (const part of per) {
    const n = volume[part.fact];
    if (n === undefined) return undefined;
    v += (n / part.unit) * part.seconds;
  }
  return v;
}
