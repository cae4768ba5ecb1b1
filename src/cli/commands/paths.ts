import pc from 'picocolors';
import { ExitCode } from '../../errors/index.ts';
import { assemblePlan, availabilityOf, type Plan } from '../../plan/index.ts';
import { verdictText } from '../../report/index.ts';
import { formatDuration } from '../../util/index.ts';
import { type ProfileFactsOptions, readProfileFacts } from '../profile-facts.ts';
import type { CommandResult } from '../types.ts';

export interface PathsCommandOptions extends ProfileFactsOptions {
  from?: string;
  /** `--channel`: list only the releases of this channel (default: the catalog's default). */
  channel?: string;
}

/**
 * Why a target gets the verdict it gets, in a few words: the facts missing for "not
 * recommended", what blocks it, how many actions it needs. Empty for a recommended one.
 */
function whyOf(plan: Plan): string {
  if (plan.verdict === 'not-recommended') {
    const facts = [...new Set(plan.reasons.flatMap((r) => r.missingFacts ?? []))].sort();
    const shown = facts.slice(0, 4).join(', ');
    return `missing ${facts.length === 1 ? 'fact' : 'facts'} ${shown}${facts.length > 4 ? ` and ${facts.length - 4} more` : ''}`;
  }
  if (plan.verdict === 'blocked') {
    const reasons =
      plan.blockedBy.length > 0
        ? plan.blockedBy.map((b) => `${b.from}: ${b.reason}`)
        : plan.reasons.filter((r) => !r.missingFacts).map((r) => r.text);
    return reasons.slice(0, 2).join('; ');
  }
  if (plan.verdict === 'possible-with-actions') {
    const n = plan.reasons.filter(
      (r) =>
        r.code !== 'security-fixes' &&
        r.code !== 'notes-apply' &&
        r.code !== 'installed-not-in-catalog',
    ).length;
    return `${n} action${n === 1 ? '' : 's'} to take`;
  }
  return '';
}

/** The version as its release's members are told apart: "Patch 3" in release "5.4", else whole. */
function within(release: string, version: string): string {
  return version.startsWith(`${release} `) ? version.slice(release.length + 1) : version;
}

/** `uplift paths`: every version reachable from the installed one, with its hops. */
export async function handler(opts: PathsCommandOptions): Promise<CommandResult> {
  const { profile, facts, warnings } = await readProfileFacts(opts);
  const c = profile.catalog;
  // Refuses an unknown --channel before anything is planned (UPLIFT_PLAN_UNKNOWN_CHANNEL).
  const { channel } = availabilityOf(c, opts.channel);
  const base = {
    profile: profile.manifest.name,
    catalog: c,
    facts,
    from: opts.from,
    ...(channel !== undefined ? { channel } : {}),
  };
  const from = assemblePlan({ ...base, to: opts.from ?? facts.version ?? '' }).from;
  // A release of another channel is not a target here: plan refuses it (UPLIFT_PLAN_NOT_IN_CHANNEL).
  const inChannel = (v: string) => {
    const of = c.releases.get(v)?.channels;
    return channel === undefined || !of || of.includes(channel);
  };
  const targets = c.versions.filter((v) => c.scheme.compare(v, from) > 0 && inChannel(v));
  const views: {
    release: string;
    to: string;
    verdict: Plan['verdict'];
    why: string;
    path: string;
  }[] = [];
  const rows = targets.map((to) => {
    const plan = assemblePlan({ ...base, to });
    views.push({
      release: c.scheme.releaseOf(to),
      to,
      verdict: plan.verdict,
      why: whyOf(plan),
      path:
        plan.steps.length > 0
          ? `${plan.steps.map((s) => (s.kind === 'manual' ? s.title : s.to)).join(' → ')} (${plan.estimate.packHops + plan.estimate.manualSteps} hop${plan.estimate.packHops + plan.estimate.manualSteps === 1 ? '' : 's'}, ~${formatDuration(plan.estimate.downtimeSeconds)} down)`
          : 'no path',
    });
    return {
      to,
      verdict: plan.verdict,
      hops: plan.estimate.packHops,
      manualSteps: plan.estimate.manualSteps,
      downtimeSeconds: plan.estimate.downtimeSeconds,
      steps: plan.steps.map((s) => (s.kind === 'manual' ? s.title : s.to)),
      blockedBy: plan.blockedBy.map((b) => b.reason),
    };
  });
  const title = `${c.catalog.title}${channel !== undefined ? `, ${channel} channel` : ''}: from ${from}`;
  const text = renderPaths(title, views);
  return {
    data: {
      profile: profile.manifest.name,
      ...(channel !== undefined ? { channel } : {}),
      from,
      targets: rows,
    },
    text,
    exitCode: ExitCode.ok,
    warnings,
  };
}

/**
 * Targets grouped by release: per release, its versions in runs that share a verdict and its
 * reason (said once for the run), then the path to the newest of them, which the others share
 * but for their last hop.
 */
function renderPaths(
  title: string,
  views: { release: string; to: string; verdict: Plan['verdict']; why: string; path: string }[],
): string {
  const releases = new Map<string, typeof views>();
  for (const v of views) releases.set(v.release, [...(releases.get(v.release) ?? []), v]);
  const out = [
    pc.bold(
      `${title}, ${views.length} newer version${views.length === 1 ? '' : 's'} in ${releases.size} release${releases.size === 1 ? '' : 's'}`,
    ),
  ];
  for (const [release, members] of releases) {
    out.push(
      '',
      pc.bold(
        `${release}  ${pc.dim(`(${members.length} version${members.length === 1 ? '' : 's'})`)}`,
      ),
    );
    let i = 0;
    while (i < members.length) {
      const first = members[i] as (typeof views)[number];
      let j = i;
      while (
        j + 1 < members.length &&
        members[j + 1]?.verdict === first.verdict &&
        members[j + 1]?.why === first.why
      )
        j++;
      const last = members[j] as (typeof views)[number];
      const span =
        i === j
          ? within(release, first.to)
          : `${within(release, first.to)} … ${within(release, last.to)}`;
      const verdict = verdictText[first.verdict].replace(/: facts are missing$/, '');
      out.push(`  - ${span}: ${verdict}${first.why ? `; ${first.why}` : ''}`);
      i = j + 1;
    }
    const newest = members.at(-1) as (typeof views)[number];
    out.push(pc.dim(`    path to ${newest.to}: ${newest.path}`));
  }
  if (views.some((v) => v.verdict === 'not-recommended'))
    out.push(
      '',
      'Give the missing facts with --fact path=value or --facts FILE, or read them from the installation with --install DIR.',
    );
  return `${out.join('\n')}\n`;
}
