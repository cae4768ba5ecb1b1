import type { Catalog, Source } from './schema.ts';

/** The provenance fields any catalog entry may carry. */
export interface ProvenanceFields {
  source?: Source;
  illustrative?: boolean;
  reason?: string;
  /** An upgrade rule's reason for being illustrative (its `reason` says why the rule exists). */
  illustrativeReason?: string;
}

/** What an entry rests on once inheritance is applied: a named source, or an illustrative reason. */
export type Provenance =
  | { kind: 'source'; source: Source }
  | { kind: 'illustrative'; reason: string };

/** Stated on the entry itself, or undefined when it inherits. */
function own(entry: ProvenanceFields): Provenance | undefined {
  if (entry.source) return { kind: 'source', source: entry.source };
  if (entry.illustrative === true)
    return {
      kind: 'illustrative',
      reason: entry.illustrativeReason ?? entry.reason ?? 'not stated by the sources',
    };
  return undefined;
}

/** The catalog-wide default: only a wholly illustrative catalog (a test or demo) has one. */
export function catalogProvenance(c: Catalog): Provenance | undefined {
  return c.illustrative === true
    ? { kind: 'illustrative', reason: c.reason ?? 'the whole catalog is illustrative' }
    : undefined;
}

/** The upgrade section's provenance, which its rules inherit: its own, else the catalog's. */
export function upgradeProvenance(c: Catalog): Provenance | undefined {
  return provenanceOf(c.upgrade, catalogProvenance(c));
}

/**
 * The entry's provenance: its own, else its parent's (the release of a note, pack or durations
 * override; the catalog for the rest). The loader refuses required entries that end up with none,
 * so `undefined` is seen only for entries outside that rule.
 */
export function provenanceOf(
  entry: ProvenanceFields,
  parent: Provenance | undefined,
): Provenance | undefined {
  return own(entry) ?? parent;
}

/** True when the provenance is illustrative; an entry with none counts as illustrative too. */
export function isIllustrative(p: Provenance | undefined): boolean {
  return p?.kind !== 'source';
}

/** The reason of an illustrative provenance, for marks and banners. */
export function illustrativeReason(p: Provenance | undefined): string {
  if (p === undefined) return 'no source is given';
  return p.kind === 'illustrative' ? p.reason : '';
}

type Problem = (path: PropertyKey[], message: string, hint: string) => void;

const addSource =
  'add source: { doc: <document of the sources>, section: <its section> }, or illustrative: true with reason: <why the sources do not state it>';
const addRuleSource =
  'add source: { doc: <document of the sources>, section: <its section> }, or illustrative: true with illustrativeReason: <why the sources do not state it>';

/**
 * Checks provenance: every release, durations block, incompatibility, outside-system prerequisite
 * and task carries `source` or `illustrative: true` with a `reason`, itself or by inheritance;
 * notes, packs and a release's durations may override their release's.
 */
export function checkProvenance(c: Catalog, problem: Problem): void {
  const whole = catalogProvenance(c);
  checkFields(c, [], problem);
  const required = (entry: ProvenanceFields, path: PropertyKey[], what: string) => {
    checkFields(entry, path, problem);
    if (provenanceOf(entry, whole) === undefined)
      problem(path, `${what} has neither a source nor illustrative: true`, addSource);
  };
  c.releases.forEach((r, i) => {
    required(r, ['releases', i], `release "${r.version}"`);
    for (const type of ['features', 'fixed', 'limitations'] as const)
      (r.notes?.[type] ?? []).forEach((n, j) => {
        checkFields(n, ['releases', i, 'notes', type, j], problem);
      });
    (r.packs ?? []).forEach((p, j) => {
      checkFields(p, ['releases', i, 'packs', j], problem);
    });
    if (r.durations) checkFields(r.durations, ['releases', i, 'durations'], problem);
  });
  required(c.durations, ['durations'], 'durations');
  c.incompatibilities.forEach((x, i) => {
    required(x, ['incompatibilities', i], `incompatibility "${x.id}"`);
  });
  c.externalPrerequisites.forEach((x, i) => {
    required(x, ['externalPrerequisites', i], `prerequisite "${x.id}"`);
  });
  c.tasks.forEach((x, i) => {
    required(x, ['tasks', i], `task "${x.id}"`);
  });
  checkUpgradeRules(c, problem);
}

/**
 * Upgrade rules decide the path, so each carries provenance, its own or the upgrade section's
 * (then the catalog's); `latestPatchFirst: true` is a rule of the section itself.
 */
function checkUpgradeRules(c: Catalog, problem: Problem): void {
  const up = c.upgrade;
  const section = upgradeProvenance(c);
  checkFields(up, ['upgrade'], problem, 'illustrativeReason');
  if (up.latestPatchFirst && section === undefined)
    problem(
      ['upgrade', 'latestPatchFirst'],
      'latestPatchFirst has neither a source nor illustrative: true',
      `${addRuleSource}, on the upgrade section`,
    );
  const rules = [
    ['requiredStops', up.requiredStops, (r: { release: string }) => `required stop "${r.release}"`],
    [
      'prerequisites',
      up.prerequisites,
      (r: { release: string }) => `prerequisite of "${r.release}"`,
    ],
    ['edges', up.edges, (r: { from: string; to: string }) => `edge "${r.from}" → "${r.to}"`],
    ['blocked', up.blocked, (r: { from: string }) => `blocked hop from "${r.from}"`],
    ['manualSteps', up.manualSteps, (r: { id: string }) => `manual step "${r.id}"`],
  ] as const;
  for (const [key, list, name] of rules)
    (list ?? []).forEach((r: ProvenanceFields, i: number) => {
      const path = ['upgrade', key, i];
      checkFields(r, path, problem, 'illustrativeReason');
      const minutes = (r as { minutesProvenance?: ProvenanceFields }).minutesProvenance;
      if (minutes) checkFields(minutes, [...path, 'minutesProvenance'], problem);
      if (provenanceOf(r, section) === undefined)
        problem(
          path,
          `${(name as (x: unknown) => string)(r)} has neither a source nor illustrative: true`,
          addRuleSource,
        );
    });
}

/** The fields must agree: a source or an illustrative reason, never both, never a stray reason. */
function checkFields(
  entry: ProvenanceFields,
  path: PropertyKey[],
  problem: Problem,
  reasonKey: 'reason' | 'illustrativeReason' = 'reason',
): void {
  const reason = entry[reasonKey];
  if (entry.source !== undefined && entry.illustrative === true)
    problem(
      [...path, 'illustrative'],
      'an entry with a source cannot also be illustrative',
      'keep source when the document states it; otherwise remove source',
    );
  else if (entry.illustrative === true && reason === undefined)
    problem(
      [...path, 'illustrative'],
      `illustrative: true needs ${reasonKey === 'reason' ? 'a reason' : 'an illustrativeReason'}`,
      `add ${reasonKey}: <what the sources do not state, and why the value was chosen>`,
    );
  else if (entry.illustrative !== true && reason !== undefined)
    problem(
      [...path, reasonKey],
      `${reasonKey} explains an illustrative entry, but illustrative is not true`,
      `add illustrative: true, or remove ${reasonKey}`,
    );
}
