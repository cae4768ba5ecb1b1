import { basename } from 'node:path';
import type { Facts, LoadedCatalog, Pack } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';
import { evaluateRule, type RuleOutcome } from '../rules/index.ts';
import { findEqual } from '../versioning/index.ts';
import { announcedOf, availabilityOf, checkTargetInChannel } from './availability.ts';
import { digestNotes } from './digest-notes.ts';
import { durationsFor, estimateStep, scaleDuration } from './estimate.ts';
import {
  findPath,
  type HopIncompatibilityOutcome,
  type PathResult,
  type PathStep,
} from './find-path.ts';
import { contentHash } from './hash.ts';
import { placeVersion } from './place-version.ts';
import { assessProvenance } from './provenance.ts';
import type {
  Plan,
  PlanIncompatibility,
  PlanPrerequisite,
  PlanStep,
  PlanTask,
  Reason,
  Verdict,
} from './schema.ts';
import { markSettles } from './settle.ts';
import { attachMethods } from './step-method.ts';

export interface PlanRequest {
  /** The profile's name, recorded in the plan. */
  profile: string;
  catalog: LoadedCatalog;
  facts: Facts;
  /** The installed version; defaults to `facts.version`. */
  from: string | undefined;
  /** A version, or `latest`. */
  to: string;
  /** The release channel (`--channel`); default the catalog's default channel. */
  channel?: string;
}

/**
 * Assembles the plan: the path, the notes digest, what applies of the catalog's incompatibilities,
 * prerequisites and tasks, the estimate and the verdict. Pure: the same inputs give the same plan
 * and the same hash. Throws only for requests that cannot be planned (unknown version, downgrade).
 */
export function assemblePlan(req: PlanRequest): Plan {
  let c = req.catalog;
  const { scheme } = c;
  const requestedFrom = req.from ?? req.facts.version;
  if (requestedFrom === undefined) {
    throw new UpliftError('UPLIFT_USAGE', 'the installed version is not known', {
      hint: 'pass --from VERSION, or give facts with a version field',
    });
  }
  const valid = scheme.isValid(requestedFrom);
  const listed = valid ? findEqual(scheme, c.versions, requestedFrom) : undefined;
  let installedNotInCatalog: Plan['installedNotInCatalog'];
  // Above the newest listed version there is no place to plan from: the catalog is behind.
  if (
    valid &&
    listed === undefined &&
    scheme.compare(requestedFrom, c.versions.at(-1) as string) < 0
  ) {
    const placed = placeVersion(c, requestedFrom);
    installedNotInCatalog = { after: placed.after, before: placed.before };
    c = placed.catalog;
  }
  const from = listed ?? resolveVersion(c, requestedFrom, 'installed');
  const available = availabilityOf(c, req.channel);
  const to =
    req.to === 'latest'
      ? available.latest
      : installedNotInCatalog && scheme.isValid(req.to) && scheme.compare(req.to, from) === 0
        ? from
        : resolveVersion(req.catalog, req.to, 'target');
  // Staying at the installed version chooses no target, whatever channel carries it.
  if (scheme.compare(to, from) !== 0) checkTargetInChannel(available, c, to);
  if (scheme.compare(to, from) < 0) {
    throw new UpliftError(
      'UPLIFT_PLAN_DOWNGRADE',
      `${to} is older than the installed ${from}; uplift does not plan downgrades`,
      {
        hint: `choose a target newer than ${from}, or use uplift rollback / restore to go back`,
      },
    );
  }
  const facts = { ...req.facts, version: from };
  const platform = typeof facts.platform?.id === 'string' ? facts.platform.id : null;
  const assumptions = new Set<string>();
  const hopCost = (s: PathStep) => estimateStep(c, s, null, facts, assumptions).downtimeSeconds;

  const path: PathResult =
    from === to
      ? {
          found: true as const,
          steps: [],
          conditionalStops: [],
          hopIncompatibilities: [],
          uncertainEdges: [],
        }
      : findPath(available.catalog, from, to, facts, hopCost);
  assumptions.clear();
  const pathSteps = path.found ? path.steps : [];
  const steps = pathSteps.map((s, i) => toPlanStep(c, s, i, platform, facts, assumptions));
  markSettles(c, steps);
  attachMethods(c, steps, platform);

  const incompatibilities = [
    ...assessIncompatibilities(c, from, to, facts),
    ...(path.found ? path.hopIncompatibilities.map(toPlanIncompatibility) : []),
  ];
  const externalPrerequisites = assessPrerequisites(c, from, to, facts);
  const packHops = steps.filter((s) => s.kind !== 'manual').length;
  const tasks = selectTasks(c, facts, packHops, from === to);
  const notes = digestNotes(c, from, to, facts);

  const d = c.catalog.durations;
  const backupSeconds = from === to ? 0 : scaleDuration(d.backup, facts, assumptions);
  const hopDowntime = steps.reduce((sum, s) => sum + s.estimate.downtimeSeconds, 0);
  const downtimeSeconds = from === to ? 0 : hopDowntime + (d.backupNeedsStop ? backupSeconds : 0);
  const validationSeconds =
    from === to ? 0 : scaleDuration(durationsFor(c, to).validate, facts, assumptions);
  const rollbackSeconds = from === to ? 0 : scaleDuration(d.rollback, facts, assumptions);

  const conditionalStops = path.conditionalStops.map((s) => ({
    version: s.version,
    reason: s.reason,
    outcome: outcomeOf(s.value),
    missingFacts: s.missing,
  }));
  const { verdict, reasons } = decideVerdict({
    from,
    to,
    path,
    steps,
    incompatibilities,
    externalPrerequisites,
    conditionalStops,
    notesApplying: notes.counts.applies,
    security: notes.counts.security,
  });
  if (installedNotInCatalog) reasons.push(notInCatalogReason(from, installedNotInCatalog));

  const prerequisiteStep = steps.find((s) => s.stage === 'prerequisite');
  const assembled: Omit<Plan, 'hash' | 'provenance'> = {
    planFormat: 1,
    profile: req.profile,
    product: c.catalog.product,
    // The file's name only: the same catalog planned from another checkout gives the same hash.
    catalog: { file: basename(c.file), digest: c.digest },
    facts: { digest: contentHash(facts), platform },
    from,
    to,
    target: { requested: req.to, resolved: to },
    // Only when it applies, so the plans of listed versions keep their hashes.
    ...(installedNotInCatalog ? { installedNotInCatalog } : {}),
    ...(available.channel !== undefined ? { channel: available.channel } : {}),
    ...announcedOf(available, from),
    verdict,
    reasons,
    prerequisite: prerequisiteStep?.to
      ? { to: prerequisiteStep.to, reason: prerequisiteStep.reason.text }
      : null,
    steps,
    blockedBy: path.found ? [] : path.blockedBy,
    conditionalStops,
    incompatibilities,
    externalPrerequisites,
    tasks,
    manualActions: manualActionsOf(steps, incompatibilities, externalPrerequisites, tasks),
    ...customizedFilesOf(facts),
    estimate: {
      packHops,
      manualSteps: steps.length - packHops,
      downloadSeconds: steps.reduce((sum, s) => sum + s.estimate.phases.download, 0),
      backupSeconds,
      downtimeSeconds,
      validationSeconds,
      rollbackSeconds,
      windowSeconds: downtimeSeconds + validationSeconds + rollbackSeconds,
      downloadBytes: steps.reduce((sum, s) => sum + (s.pack?.size ?? 0), 0),
      assumptions: [...assumptions].sort(),
    },
    notes,
  };
  const body: Omit<Plan, 'hash'> = {
    ...assembled,
    provenance: assessProvenance(c, assembled, facts, req.from === undefined),
  };
  return { ...body, hash: contentHash(body) };
}

function resolveVersion(c: LoadedCatalog, v: string, role: 'installed' | 'target'): string {
  const { scheme } = c;
  if (!scheme.isValid(v)) {
    throw new UpliftError(
      'UPLIFT_PLAN_UNKNOWN_VERSION',
      `the ${role} version "${v}" is not a ${scheme.id} version`,
      {
        hint: `write it the way the catalog does, e.g. "${c.versions.at(-1)}"; run uplift paths to list versions`,
      },
    );
  }
  const found = findEqual(scheme, c.versions, v);
  if (found === undefined) {
    const release = c.versions.filter((x) => scheme.releaseOf(x) === scheme.releaseOf(v));
    const hint =
      role === 'installed' && scheme.compare(v, c.versions.at(-1) as string) > 0
        ? `it is newer than every release the catalog lists (up to ${c.versions.at(-1)}); update the profile's catalog`
        : release.length > 0
          ? `known levels of ${scheme.releaseOf(v)}: ${release.join(', ')}`
          : `the catalog lists ${c.versions[0]} to ${c.versions.at(-1)}`;
    throw new UpliftError(
      'UPLIFT_PLAN_UNKNOWN_VERSION',
      `the ${role} version "${v}" is not in the ${c.catalog.product} catalog`,
      { hint },
    );
  }
  return found;
}

function toPlanStep(
  c: LoadedCatalog,
  s: PathStep,
  i: number,
  platform: string | null,
  facts: unknown,
  assumptions: Set<string>,
): PlanStep {
  let pack: Pack | null = null;
  let packProblem: string | undefined;
  if (s.kind !== 'manual' && s.to !== null) {
    const candidates = (c.releases.get(s.to)?.packs ?? []).filter((p) => {
      const fromPattern = c.packFrom.get(p);
      return s.from === null || !fromPattern || fromPattern.matches(s.from);
    });
    if (platform === null)
      packProblem = 'the platform is unknown; give platform.id in the facts to pick a pack';
    else {
      pack = candidates.find((p) => p.platform === platform) ?? null;
      if (!pack)
        packProblem = `the catalog lists no pack for ${platform} that reaches ${s.to}${s.from ? ` from ${s.from}` : ''}`;
    }
  }
  const title =
    s.kind === 'manual'
      ? (s.manual?.title ?? 'manual step')
      : s.kind === 'install'
        ? `Install ${s.to}`
        : `Upgrade ${s.from} → ${s.to}`;
  return {
    index: i + 1,
    kind: s.kind,
    stage: s.reason.code === 'latest-patch-first' ? 'prerequisite' : 'upgrade',
    from: s.from,
    to: s.to,
    title,
    reason: s.reason,
    pack: pack
      ? {
          platform: pack.platform,
          file: pack.file,
          size: pack.size,
          sha256: pack.sha256,
          md5: pack.md5,
          url: pack.url,
        }
      : null,
    packProblem,
    manual: s.manual
      ? { id: s.manual.id, detail: s.manual.detail, link: s.manual.link }
      : undefined,
    estimate: estimateStep(c, s, pack, facts, assumptions),
  };
}

function outcomeOf(v: RuleOutcome['value']): PlanIncompatibility['outcome'] {
  return v === 'unknown' ? 'unknown' : v ? 'applies' : 'does-not-apply';
}

/** An incompatibility concerns a path that crosses the version introducing it. */
function assessIncompatibilities(
  c: LoadedCatalog,
  from: string,
  to: string,
  facts: unknown,
): PlanIncompatibility[] {
  const { scheme } = c;
  const out: PlanIncompatibility[] = [];
  for (const inc of c.catalog.incompatibilities) {
    const at = c.introducedIn.get(`incompatibility:${inc.id}`);
    // Hop-scoped ones have no introducedIn; findPath judges them on the hops of the path.
    if (at === undefined) continue;
    if (!(scheme.compare(from, at) < 0 && scheme.compare(at, to) <= 0)) continue;
    const outcome = inc.when
      ? evaluateRule(inc.when, facts)
      : { value: true as const, missing: [], used: {} };
    out.push({
      id: inc.id,
      title: inc.title,
      introducedIn: at,
      severity: inc.severity,
      outcome: outcomeOf(outcome.value),
      action: inc.action,
      detail: inc.detail,
      link: inc.link,
      evidence: outcome.used,
      missingFacts: outcome.missing,
    });
  }
  return out;
}

/** A hop-scoped incompatibility on a hop of the path; its introducedIn is the version the hop reaches. */
function toPlanIncompatibility(h: HopIncompatibilityOutcome): PlanIncompatibility {
  const inc = h.incompatibility;
  return {
    id: inc.id,
    title: inc.title,
    introducedIn: h.to,
    severity: inc.severity,
    outcome: outcomeOf(h.value),
    action: inc.action,
    detail: inc.detail,
    link: inc.link,
    evidence: h.used,
    missingFacts: h.missing,
    hop: { from: h.from, to: h.to },
  };
}

function notInCatalogReason(
  from: string,
  place: NonNullable<Plan['installedNotInCatalog']>,
): Reason {
  const where =
    place.after && place.before
      ? `between ${place.after} and ${place.before}`
      : place.after
        ? `after ${place.after}`
        : `before ${place.before}`;
  return {
    code: 'installed-not-in-catalog',
    text: `the installed ${from} is not in the catalog; it was planned from its place ${where}`,
  };
}

function assessPrerequisites(
  c: LoadedCatalog,
  from: string,
  to: string,
  facts: unknown,
): PlanPrerequisite[] {
  const { scheme } = c;
  const out: PlanPrerequisite[] = [];
  for (const p of c.catalog.externalPrerequisites) {
    const at = c.introducedIn.get(`prerequisite:${p.id}`);
    if (from === to || (at !== undefined && scheme.compare(to, at) < 0)) continue;
    const concerns = p.appliesWhen
      ? evaluateRule(p.appliesWhen, facts)
      : { value: true as const, missing: [], used: {} };
    let status: PlanPrerequisite['status'] = 'not-applicable';
    let evidence = concerns.used;
    let missing = concerns.missing;
    if (concerns.value !== false) {
      const holds = evaluateRule(p.require, facts);
      evidence = { ...concerns.used, ...holds.used };
      missing = [...new Set([...concerns.missing, ...holds.missing])].sort();
      if (holds.value === 'unknown' || concerns.value === 'unknown')
        status = holds.value === true ? 'satisfied' : 'unknown';
      else status = holds.value ? 'satisfied' : 'violated';
      if (status !== 'unknown') missing = [];
    }
    out.push({
      id: p.id,
      title: p.title,
      system: p.system,
      severity: p.severity,
      status,
      action: p.action,
      link: p.link,
      evidence,
      missingFacts: missing,
    });
  }
  return out;
}

function selectTasks(
  c: LoadedCatalog,
  facts: unknown,
  packHops: number,
  upToDate: boolean,
): PlanTask[] {
  if (upToDate) return [];
  return c.catalog.tasks
    .filter(
      (t) =>
        (!t.chainedOnly || packHops > 1) &&
        (!t.when || evaluateRule(t.when, facts).value !== false),
    )
    .map((t) => ({ id: t.id, title: t.title, detail: t.detail, check: t.check }));
}

function manualActionsOf(
  steps: PlanStep[],
  incs: PlanIncompatibility[],
  prereqs: PlanPrerequisite[],
  tasks: PlanTask[],
): Plan['manualActions'] {
  return [
    ...steps
      .filter((s) => s.kind === 'manual')
      .map((s) => ({
        source: 'manual-step',
        id: s.manual?.id ?? `step-${s.index}`,
        text: s.title,
      })),
    ...steps
      .filter((s) => s.packProblem)
      .map((s) => ({
        source: 'pack',
        id: `step-${s.index}`,
        text: `Obtain the pack for step ${s.index}: ${s.packProblem}`,
      })),
    ...incs
      .filter((i) => i.outcome !== 'does-not-apply' && i.severity !== 'info')
      .map((i) => ({ source: 'incompatibility', id: i.id, text: i.action })),
    ...prereqs
      .filter((p) => p.status === 'violated' || p.status === 'unknown')
      .map((p) => ({ source: 'prerequisite', id: p.id, text: p.action })),
    ...tasks.filter((t) => !t.check).map((t) => ({ source: 'task', id: t.id, text: t.title })),
  ];
}

interface VerdictInput {
  from: string;
  to: string;
  path: PathResult;
  steps: PlanStep[];
  incompatibilities: PlanIncompatibility[];
  externalPrerequisites: PlanPrerequisite[];
  conditionalStops: Plan['conditionalStops'];
  notesApplying: number;
  security: number;
}

/** blocked > not recommended (something unknown) > possible with actions > recommended. */
function decideVerdict(v: VerdictInput): { verdict: Verdict; reasons: Reason[] } {
  if (v.from === v.to)
    return {
      verdict: 'up-to-date',
      reasons: [{ code: 'up-to-date', text: `${v.from} is already the target` }],
    };
  const blocked: Reason[] = [];
  const unknown: Reason[] = [];
  const actions: Reason[] = [];
  if (!v.path.found) {
    const why =
      'blockedBy' in v.path && v.path.blockedBy.length > 0
        ? v.path.blockedBy.map((b) => `${b.from}: ${b.reason}`).join('; ')
        : 'no allowed path in the catalog';
    blocked.push({ code: 'no-path', text: `no upgrade path from ${v.from} to ${v.to}: ${why}` });
  }
  for (const i of v.incompatibilities) {
    if (i.outcome === 'applies' && i.severity === 'blocking')
      blocked.push({ code: 'incompatibility-blocking', text: `${i.title}: ${i.action}` });
    else if (i.outcome === 'applies' && i.severity === 'action')
      actions.push({ code: 'incompatibility-action', text: `${i.title}: ${i.action}` });
    else if (i.outcome === 'unknown')
      unknown.push({
        code: 'incompatibility-unknown',
        text: `cannot tell whether "${i.title}" applies`,
        missingFacts: i.missingFacts,
      });
  }
  for (const p of v.externalPrerequisites) {
    if (p.status === 'violated' && p.severity === 'blocking')
      blocked.push({ code: 'prerequisite-violated', text: `${p.title}: ${p.action}` });
    else if (p.status === 'violated' && p.severity === 'action')
      actions.push({ code: 'prerequisite-action', text: `${p.title}: ${p.action}` });
    else if (p.status === 'unknown')
      unknown.push({
        code: 'prerequisite-unknown',
        text: `cannot tell whether "${p.title}" holds`,
        missingFacts: p.missingFacts,
      });
  }
  for (const s of v.conditionalStops) {
    if (s.outcome === 'unknown')
      unknown.push({
        code: 'conditional-stop-unknown',
        text: `cannot tell whether the stop at ${s.version} is needed; it was kept`,
        missingFacts: s.missingFacts,
      });
  }
  if (v.path.found)
    for (const e of v.path.uncertainEdges)
      unknown.push({
        code: 'edge-unknown',
        text: `cannot tell whether the edge from ${e.from} to ${e.to} may be taken; no other path was found`,
        missingFacts: e.missing,
      });
  for (const s of v.steps) {
    if (s.kind === 'manual') actions.push({ code: 'manual-step', text: `manual step: ${s.title}` });
    if (s.packProblem)
      actions.push({ code: 'pack-missing', text: `step ${s.index}: ${s.packProblem}` });
  }
  const info: Reason[] = [];
  if (v.security > 0)
    info.push({
      code: 'security-fixes',
      text: `${v.security} security entries in the release notes on this path`,
    });
  if (v.notesApplying > 0)
    info.push({
      code: 'notes-apply',
      text: `${v.notesApplying} release-note entries concern this installation`,
    });
  if (blocked.length > 0)
    return { verdict: 'blocked', reasons: [...blocked, ...unknown, ...actions] };
  if (unknown.length > 0)
    return { verdict: 'not-recommended', reasons: [...unknown, ...actions, ...info] };
  if (actions.length > 0)
    return { verdict: 'possible-with-actions', reasons: [...actions, ...info] };
  return {
    verdict: 'recommended',
    reasons: [{ code: 'clear', text: 'no blocking or unresolved item on this path' }, ...info],
  };
}

/**
 * The customized files of the facts: detection's `{ changed, added, removed }`, or a plain list
 * (hand-written facts), read as changed files. Absent when the facts do not say.
 */
function customizedFilesOf(facts: Facts): Pick<Plan, 'customizedFiles'> {
  const c = facts.customizedFiles;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  if (Array.isArray(c)) return { customizedFiles: { changed: strings(c), added: [], removed: [] } };
  if (typeof c !== 'object' || c === null) return {};
  const { changed, added, removed } = c as Record<string, unknown>;
  return {
    customizedFiles: {
      changed: strings(changed),
      added: strings(added),
      removed: strings(removed),
    },
  };
}
