import { type SourceLocation, UpliftError, type UpliftErrorDetail } from '../errors/index.ts';
import { isFormulaError, parseFormula, type Rule } from '../rules/index.ts';
import {
  baseOfRelease,
  latestOfRelease,
  sortVersions,
  type VersionScheme,
} from '../versioning/index.ts';
import { checkProvenance } from './provenance.ts';
import type {
  Catalog,
  Duration,
  Incompatibility,
  Pack,
  Release,
  RequiredStop,
  Upgrade,
} from './schema.ts';
import { stepPhases } from './step-phases.ts';
import { compilePattern, type VersionPattern } from './version-pattern.ts';

/** Finds the source position of a field path, for messages. */
export type Locate = (path: readonly PropertyKey[]) => SourceLocation;

type ManualStep = NonNullable<Upgrade['manualSteps']>[number];

export interface CatalogEdge {
  from: VersionPattern;
  to: string;
  downtimeMinutes?: number;
  /** A conditional edge's rule. */
  when?: Rule;
}

/** An incompatibility scoped to hops (`hops: {from, to}`) rather than to `introducedIn`. */
export interface HopIncompatibility {
  from: VersionPattern;
  to: VersionPattern;
  incompatibility: Incompatibility;
}

/** A required stop resolved to the catalog's own version. */
export interface ResolvedStop {
  version: string;
  /** For `take: any-patch`: the highest level that meets the stop (`version` is the lowest). */
  upTo?: string;
  stop: RequiredStop;
}

/**
 * A catalog that passed every check, with what the planner needs precomputed: versions sorted,
 * patterns compiled, stops and references resolved to the catalog's own spelling.
 */
export interface LoadedCatalog {
  file: string;
  /** `sha256:<hex>` of the file's bytes, so a plan names the exact catalog it came from. */
  digest: string;
  catalog: Catalog;
  scheme: VersionScheme;
  /** Every release version, ascending. */
  versions: readonly string[];
  /** Position of each version (catalog spelling) in `versions`: an O(1) comparison for the planner. */
  rank: ReadonlyMap<string, number>;
  releases: ReadonlyMap<string, Release>;
  stops: readonly ResolvedStop[];
  prerequisites: ReadonlyMap<string, { target: string; reason?: string }>;
  /** Explicit edges whose `from` is one exact version, by that version (catalog spelling). */
  edgesFrom: ReadonlyMap<string, readonly CatalogEdge[]>;
  /** Explicit edges whose `from` is a wider pattern. */
  edgesByPattern: readonly CatalogEdge[];
  /** True when the catalog declares explicit edges at all. */
  hasEdges: boolean;
  blocked: readonly { from: VersionPattern; to?: VersionPattern; reason: string; link?: string }[];
  manualSteps: readonly { from: VersionPattern; continueAt: string; step: ManualStep }[];
  packFrom: ReadonlyMap<Pack, VersionPattern>;
  introducedIn: ReadonlyMap<string, string>;
  /** Incompatibilities that concern hops, in catalog order; the planner routes around them. */
  hopIncompatibilities: readonly HopIncompatibility[];
}

/** Throws the catalog error for a list of problems, the first one leading. */
export function failCatalog(file: string, details: UpliftErrorDetail[]): never {
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  throw new UpliftError('UPLIFT_CATALOG_INVALID', `${first?.message ?? 'invalid catalog'}${more}`, {
    location: first?.location ?? { file },
    details,
    hint: first?.hint ?? 'correct the field named above; docs/catalog.md describes every field',
  });
}

/** The cross-field rules the schema cannot express. Collects every problem before failing. */
export function resolveCatalog(
  file: string,
  catalog: Catalog,
  scheme: VersionScheme,
  locate: Locate,
): Omit<LoadedCatalog, 'digest'> {
  const problems: UpliftErrorDetail[] = [];
  const problem = (path: PropertyKey[], message: string, hint: string) => {
    const location = locate(path);
    problems.push({ message: `${location.path ?? ''}: ${message}`, location, hint });
  };

  // A large catalog names each version many times (50,000 edges over 10,000 releases), so the key
  // and compiled pattern of each distinct spelling are worked out once per load.
  const keys = new Map<string, string>();
  const keyOf = (v: string): string => {
    let key = keys.get(v);
    if (key === undefined) {
      key = versionKey(scheme, v);
      keys.set(v, key);
    }
    return key;
  };
  const compiled = new Map<string, VersionPattern | string>();

  const releases = new Map<string, Release>();
  const seenKeys = new Map<string, string>();
  catalog.releases.forEach((r, i) => {
    if (!scheme.isValid(r.version)) {
      problem(
        ['releases', i, 'version'],
        `"${r.version}" is not a ${scheme.id} version`,
        versionHint(scheme),
      );
      return;
    }
    const dup = seenKeys.get(keyOf(r.version));
    seenKeys.set(keyOf(r.version), r.version);
    if (dup !== undefined) {
      problem(
        ['releases', i, 'version'],
        `"${r.version}" is listed twice (also as "${dup}")`,
        'keep one entry per release',
      );
      return;
    }
    releases.set(r.version, r);
    checkNotes(r, i, problem);
  });
  const versions = sortVersions(scheme, [...releases.keys()]);
  const byKey = new Map(versions.map((v) => [keyOf(v), v]));

  /** A reference to one exact release in the catalog; returns the catalog's spelling. */
  const exact = (path: PropertyKey[], v: string): string | undefined => {
    if (!scheme.isValid(v)) {
      problem(path, `"${v}" is not a ${scheme.id} version`, versionHint(scheme));
      return undefined;
    }
    const found = byKey.get(keyOf(v));
    if (found === undefined)
      problem(
        path,
        `"${v}" names no release in this catalog`,
        'add the release to releases, or name one that is listed',
      );
    return found;
  };
  const release = (path: PropertyKey[], v: string): boolean => {
    if (!scheme.isValid(v)) {
      problem(path, `"${v}" is not a ${scheme.id} version`, versionHint(scheme));
      return false;
    }
    if (latestOfRelease(scheme, versions, v) === undefined) {
      problem(
        path,
        `release "${scheme.releaseOf(v)}" has no version in this catalog`,
        'add its releases, or correct the release',
      );
      return false;
    }
    return true;
  };
  const pattern = (path: PropertyKey[], source: string): VersionPattern | undefined => {
    let p = compiled.get(source);
    if (p === undefined) {
      p = compilePattern(source, scheme);
      compiled.set(source, p);
    }
    if (typeof p === 'string') {
      problem(
        path,
        `cannot read the version pattern "${source}": ${p}`,
        'write *, a version, release:<version>, or comparisons such as ">=5.3.0 GA, <5.4"',
      );
      return undefined;
    }
    return p;
  };

  const up = catalog.upgrade;
  const stops: ResolvedStop[] = [];
  (up.requiredStops ?? []).forEach((s, i) => {
    const path = ['upgrade', 'requiredStops', i];
    if (!release([...path, 'release'], s.release)) return;
    let v: string | undefined;
    let upTo: string | undefined;
    if (s.take === 'exact') {
      if (s.version === undefined) {
        problem(
          path,
          'take: exact needs a version',
          'add version: <the exact version of the stop>',
        );
        return;
      }
      v = exact([...path, 'version'], s.version);
    } else if (s.take === 'ga') {
      v = baseOfRelease(scheme, versions, s.release);
      if (v === undefined)
        problem(
          [...path, 'release'],
          `release "${scheme.releaseOf(s.release)}" has no GA in this catalog`,
          'add its GA release, or use take: latest-patch',
        );
    } else if (s.take === 'any-patch') {
      // Any level meets it: the lowest listed level (the GA when there is one) up to the latest.
      v = versions.find((x) => scheme.releaseOf(x) === scheme.releaseOf(s.release));
      upTo = latestOfRelease(scheme, versions, s.release);
    } else {
      v = latestOfRelease(scheme, versions, s.release);
    }
    if (v === undefined) return;
    const previous = stops.at(-1);
    if (previous && scheme.compare(v, previous.upTo ?? previous.version) <= 0) {
      problem(
        path,
        `required stops form a cycle: ${v} is listed after ${previous.version}, so the path would have to go back`,
        'list required stops once each, in ascending version order',
      );
      return;
    }
    stops.push(
      upTo !== undefined && upTo !== v ? { version: v, upTo, stop: s } : { version: v, stop: s },
    );
  });

  const prerequisites = new Map<string, { target: string; reason?: string }>();
  (up.prerequisites ?? []).forEach((p, i) => {
    const path = ['upgrade', 'prerequisites', i];
    if (!release([...path, 'release'], p.release)) return;
    const target = exact([...path, 'target'], p.target);
    if (target === undefined) return;
    if (scheme.releaseOf(target) !== scheme.releaseOf(p.release)) {
      problem(
        [...path, 'target'],
        `${target} is not a level of release ${scheme.releaseOf(p.release)}`,
        'name a version of the same release',
      );
      return;
    }
    prerequisites.set(scheme.releaseOf(p.release), { target, reason: p.reason });
  });

  const edgesFrom = new Map<string, CatalogEdge[]>();
  const edgesByPattern: CatalogEdge[] = [];
  (up.edges ?? []).forEach((e, i) => {
    const path = ['upgrade', 'edges', i];
    const from = pattern([...path, 'from'], e.from);
    const to = exact([...path, 'to'], e.to);
    if (!from || to === undefined) return;
    if (e.when) checkRule(e.when, [...path, 'when'], problem);
    const edge = { from, to, downtimeMinutes: e.downtimeMinutes, when: e.when };
    if (from.exact !== undefined) {
      const source = exact([...path, 'from'], from.exact);
      if (source === undefined) return;
      if (scheme.compare(source, to) >= 0) {
        problem(
          [...path, 'from'],
          `the edge from ${source} to ${to} goes backwards, which makes a cycle`,
          'an edge must lead to a newer version',
        );
        return;
      }
      const list = edgesFrom.get(source);
      if (list) list.push(edge);
      else edgesFrom.set(source, [edge]);
      return;
    }
    const backwards = versions.find((v) => from.matches(v) && scheme.compare(v, to) >= 0);
    if (backwards !== undefined) {
      problem(
        [...path, 'from'],
        `the edge from ${backwards} to ${to} goes backwards, which makes a cycle`,
        `limit from to versions below ${to}, e.g. "<${to}"`,
      );
      return;
    }
    edgesByPattern.push(edge);
  });

  const blocked: LoadedCatalog['blocked'][number][] = [];
  (up.blocked ?? []).forEach((b, i) => {
    const from = pattern(['upgrade', 'blocked', i, 'from'], b.from);
    const to = b.to === undefined ? undefined : pattern(['upgrade', 'blocked', i, 'to'], b.to);
    if (from && (b.to === undefined || to))
      blocked.push({ from, to, reason: b.reason, link: b.link });
  });

  const manualSteps: LoadedCatalog['manualSteps'][number][] = [];
  (up.manualSteps ?? []).forEach((m, i) => {
    const from = pattern(['upgrade', 'manualSteps', i, 'from'], m.from);
    const continueAt = exact(['upgrade', 'manualSteps', i, 'continueAt'], m.continueAt);
    if (!from || continueAt === undefined) return;
    const backwards = versions.find((v) => from.matches(v) && scheme.compare(v, continueAt) >= 0);
    if (backwards !== undefined) {
      problem(
        ['upgrade', 'manualSteps', i, 'continueAt'],
        `the manual step would lead from ${backwards} back to ${continueAt}, which is a downgrade`,
        `limit from to versions below ${continueAt}, or continue at a newer version`,
      );
      return;
    }
    manualSteps.push({ from, continueAt, step: m });
  });

  const packFrom = new Map<Pack, VersionPattern>();
  catalog.releases.forEach((r, i) => {
    (r.packs ?? []).forEach((p, j) => {
      if (p.from === undefined) return;
      const compiled = pattern(['releases', i, 'packs', j, 'from'], p.from);
      if (compiled) packFrom.set(p, compiled);
    });
  });

  const introducedIn = new Map<string, string>();
  const hopIncompatibilities: HopIncompatibility[] = [];
  const ids = new Set<string>();
  catalog.incompatibilities.forEach((c, i) => {
    if (ids.has(c.id))
      problem(
        ['incompatibilities', i, 'id'],
        `the id "${c.id}" is used twice`,
        'give each incompatibility its own id',
      );
    ids.add(c.id);
    if ((c.introducedIn === undefined) === (c.hops === undefined)) {
      problem(
        ['incompatibilities', i],
        c.hops
          ? 'give either introducedIn or hops, not both'
          : 'introducedIn is missing (or hops, for an incompatibility of some hops only)',
        'write introducedIn: <the first version with the change>, or hops: { from: <pattern>, to: <pattern> }',
      );
    } else if (c.hops) {
      const from = pattern(['incompatibilities', i, 'hops', 'from'], c.hops.from);
      const to = pattern(['incompatibilities', i, 'hops', 'to'], c.hops.to);
      if (from && to) hopIncompatibilities.push({ from, to, incompatibility: c });
    } else {
      const v = exact(['incompatibilities', i, 'introducedIn'], c.introducedIn as string);
      if (v !== undefined) introducedIn.set(`incompatibility:${c.id}`, v);
    }
    if (c.when) checkRule(c.when, ['incompatibilities', i, 'when'], problem);
  });
  catalog.externalPrerequisites.forEach((p, i) => {
    if (p.introducedIn !== undefined) {
      const v = exact(['externalPrerequisites', i, 'introducedIn'], p.introducedIn);
      if (v !== undefined) introducedIn.set(`prerequisite:${p.id}`, v);
    }
    checkRule(p.require, ['externalPrerequisites', i, 'require'], problem);
    if (p.appliesWhen)
      checkRule(p.appliesWhen, ['externalPrerequisites', i, 'appliesWhen'], problem);
  });
  const taskIds = new Set<string>();
  catalog.tasks.forEach((t, i) => {
    if (taskIds.has(t.id))
      problem(['tasks', i, 'id'], `the id "${t.id}" is used twice`, 'give each task its own id');
    taskIds.add(t.id);
    if (t.when) checkRule(t.when, ['tasks', i, 'when'], problem);
  });

  checkProvenance(catalog, problem);
  checkFormulas(catalog, problem);
  checkChannels(catalog, problem);

  if (problems.length > 0) failCatalog(file, problems);
  return {
    file,
    catalog,
    scheme,
    versions,
    rank: new Map(versions.map((v, i) => [v, i])),
    releases,
    stops,
    prerequisites,
    edgesFrom,
    edgesByPattern,
    hasEdges: (up.edges ?? []).length > 0,
    blocked,
    manualSteps,
    packFrom,
    introducedIn,
    hopIncompatibilities,
  };
}

type Problem = (path: PropertyKey[], message: string, hint: string) => void;

function checkNotes(r: Release, i: number, problem: Problem): void {
  for (const type of ['features', 'fixed', 'limitations'] as const) {
    const seen = new Set<string>();
    (r.notes?.[type] ?? []).forEach((n, j) => {
      const path = ['releases', i, 'notes', type, j];
      if (seen.has(n.id))
        problem(
          [...path, 'id'],
          `the note id "${n.id}" is used twice in ${r.version}`,
          'give each note of a release its own id',
        );
      seen.add(n.id);
      if (n.when) checkRule(n.when, [...path, 'when'], problem);
    });
  }
}

/** Channel ids are declared once, at most one is the default, and releases name declared ones. */
function checkChannels(catalog: Catalog, problem: Problem): void {
  const declared = new Set<string>();
  let defaults = 0;
  (catalog.channels ?? []).forEach((ch, i) => {
    if (declared.has(ch.id))
      problem(
        ['channels', i, 'id'],
        `the channel "${ch.id}" is declared twice`,
        'declare each channel once',
      );
    declared.add(ch.id);
    if (ch.default && ++defaults > 1)
      problem(
        ['channels', i, 'default'],
        'a second default channel',
        'mark one channel default: true; without any, the first listed is the default',
      );
  });
  catalog.releases.forEach((r, i) => {
    (r.channels ?? []).forEach((id, j) => {
      if (!declared.has(id))
        problem(
          ['releases', i, 'channels', j],
          `"${id}" is not a channel of this catalog`,
          declared.size > 0
            ? `name one of ${[...declared].join(', ')}, or declare it under channels`
            : "declare the catalog's channels under channels: [{ id: stable }, …]",
        );
    });
  });
}

/** Duration formulas must parse now, with the character at fault, not when a plan meets them. */
function checkFormulas(catalog: Catalog, problem: Problem): void {
  const check = (d: Duration | undefined, path: PropertyKey[]) => {
    if (d?.formula === undefined) return;
    const f = parseFormula(d.formula);
    if (isFormulaError(f))
      problem(
        [...path, 'formula'],
        `cannot read the formula "${d.formula}" at character ${f.offset + 1}: ${f.message}`,
        'write facts and numbers with + - * / ( ) and ceil, floor, round, min, max; 10m is 600 seconds',
      );
  };
  for (const phase of stepPhases) check(catalog.durations[phase], ['durations', phase]);
  catalog.releases.forEach((r, i) => {
    for (const phase of stepPhases)
      check(r.durations?.[phase], ['releases', i, 'durations', phase]);
  });
}

/** Regular expressions in rules must compile now, not when a plan meets them. */
function checkRule(rule: Rule, path: PropertyKey[], problem: Problem): void {
  if ('all' in rule) {
    for (const [i, r] of rule.all.entries()) checkRule(r, [...path, 'all', i], problem);
  } else if ('any' in rule) {
    for (const [i, r] of rule.any.entries()) checkRule(r, [...path, 'any', i], problem);
  } else if ('not' in rule) checkRule(rule.not, [...path, 'not'], problem);
  else if (rule.matches !== undefined) {
    try {
      new RegExp(rule.matches);
    } catch {
      problem(
        [...path, 'matches'],
        `"${rule.matches}" is not a valid regular expression`,
        'write a JavaScript regular expression, without slashes',
      );
    }
  }
}

/** Equal versions share a key (`5.4` and `5.4.0 GA`), so references resolve without a scan. */
function versionKey(scheme: VersionScheme, v: string): string {
  const p = scheme.parse(v);
  if (!p) return `invalid:${v}`;
  const release = [...p.release];
  while (release.length > 1 && release.at(-1) === 0) release.pop();
  return `${release.join('.')}|${p.level}|${p.prerelease ?? ''}`;
}

function versionHint(scheme: VersionScheme): string {
  return `write a version of the ${scheme.id} scheme: ${scheme.description}`;
}
