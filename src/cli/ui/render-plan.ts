import pc from 'picocolors';
import { describeMethod, type Plan, type Verdict } from '../../plan/index.ts';
import { illustrativeBanner, provenanceMarks, verdictText } from '../../report/index.ts';
import { formatBytes, formatDuration, formatValue } from '../../util/index.ts';

const verdictColour: Record<Verdict, (s: string) => string> = {
  recommended: pc.green,
  'possible-with-actions': pc.yellow,
  'not-recommended': pc.magenta,
  blocked: pc.red,
  'up-to-date': pc.green,
};

const severityLabel: Record<Plan['incompatibilities'][number]['severity'], string> = {
  blocking: pc.red('BLOCKING'),
  action: pc.yellow('ACTION  '),
  info: pc.dim('INFO    '),
};

const prerequisiteLabel: Record<Plan['externalPrerequisites'][number]['status'], string> = {
  satisfied: pc.green('ok      '),
  violated: pc.red('VIOLATED'),
  unknown: pc.magenta('UNKNOWN '),
  'not-applicable': '',
};

/** How the plan was asked for, so the commands it suggests start from the same place. */
export interface PlanAsked {
  /** The installation the facts were detected from (`--install`). */
  install?: string;
  /** The profile given with `--profile`: the commands suggested with `--install` give it too. */
  profile?: string;
}

/** `--install DIR`, with `--profile P` when the plan was asked with one. */
function installArgs(install: string, asked: PlanAsked): string {
  return [
    '--install',
    shellWord(install),
    ...(asked.profile !== undefined ? ['--profile', shellWord(asked.profile)] : []),
  ].join(' ');
}

/** A shell word: quoted when it has anything a shell would split or expand. */
function shellWord(s: string): string {
  return /^[\w./@:+=-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** `1, 3–5, 7`: step numbers as short ranges. */
function stepRanges(indexes: number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < indexes.length) {
    let j = i;
    while (j + 1 < indexes.length && (indexes[j + 1] as number) === (indexes[j] as number) + 1) j++;
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}–${indexes[j]}`);
    i = j + 1;
  }
  return `step${indexes.length === 1 ? '' : 's'} ${parts.join(', ')}`;
}

/** Facts the plan could not read, and the steps left without a pack because the platform is unknown. */
/** The facts the plan could not decide without, and the steps left without a pack for want of a platform. */
export function missingOf(plan: Plan) {
  const facts = [...new Set(plan.reasons.flatMap((r) => r.missingFacts ?? []))].sort();
  const platformSteps =
    plan.facts.platform === null
      ? plan.steps.filter((s) => s.packProblem !== undefined).map((s) => s.index)
      : [];
  return { facts, platformSteps };
}

/** The command that plans again from where this plan started, with `extra` arguments. */
function planAgain(plan: Plan, asked: PlanAsked, extra: string[]): string {
  const start = asked.install
    ? [installArgs(asked.install, asked)]
    : ['--profile', shellWord(asked.profile ?? plan.profile), '--from', shellWord(plan.from)];
  return ['uplift plan', ...start, '--to', shellWord(plan.to), ...extra].join(' ');
}

/** At most three things to do next, the most pressing first. */
function nextSteps(plan: Plan, asked: PlanAsked): string[] {
  if (plan.verdict === 'up-to-date') return ['Nothing to do: the installation is on the target.'];
  const next: string[] = [];
  const { facts, platformSteps } = missingOf(plan);
  const blocking = plan.reasons.filter(
    (r) => plan.verdict === 'blocked' && !r.missingFacts && r.code !== 'pack-missing',
  );
  if (blocking.length > 0)
    next.push(
      `Settle what blocks the upgrade: ${blocking[0]?.text}${blocking.length > 1 ? ` (and ${blocking.length - 1} more under Why)` : ''}`,
    );
  if (plan.steps.length === 0 && plan.blockedBy.length > 0)
    next.push(
      `See the versions that can be reached:\nuplift paths --profile ${shellWord(asked.profile ?? plan.profile)} --from ${shellWord(plan.from)}`,
    );
  if (facts.length > 0 || platformSteps.length > 0) {
    const what =
      facts.length > 0
        ? `Give the ${facts.length} fact${facts.length === 1 ? '' : 's'} uplift could not read${platformSteps.length > 0 ? ' and the platform' : ''}`
        : 'Give the platform, so a pack is picked for each hop';
    next.push(
      `${what} (listed under Why), then plan again; --ask asks for each (or give them with --fact path=value, --facts FILE):\n${planAgain(plan, asked, ['--ask'])}`,
    );
  }
  const actions = plan.manualActions.filter((a) => a.source !== 'pack').length;
  if (actions > 0 && plan.verdict !== 'blocked')
    next.push(
      `Do the ${actions} action${actions === 1 ? '' : 's'} this path needs by hand (Incompatibilities, Outside systems, Pre-upgrade tasks below)`,
    );
  if (plan.steps.length > 0 && plan.verdict !== 'blocked') {
    // Without an installation the commands cannot name it: say so, and print what runs as is.
    const dir = asked.install ? installArgs(asked.install, asked) : undefined;
    next.push(
      dir
        ? `Run the pre-upgrade checks:\nuplift check ${dir}`
        : 'Run the pre-upgrade checks on the installation (give its folder with --install):\nuplift check --help',
    );
    next.push(
      `Book a window of ${formatDuration(plan.estimate.windowSeconds)} (downtime + validation + rollback), then rehearse${dir ? '' : ' on the installation, with --install and --dry-run'}:\n${dir ? `uplift apply ${dir} --to ${shellWord(plan.to)} --dry-run` : 'uplift apply --help'}`,
    );
  }
  return next.slice(0, 3);
}

/**
 * The reasons for the verdict, with what repeats said once: the steps without a pack for one
 * reason are named together, and the facts uplift is missing are listed once, not per item.
 */
function whyLines(plan: Plan, mark: (r: Plan['reasons'][number]) => string): string[] {
  const out: string[] = [];
  const { facts } = missingOf(plan);
  const byProblem = new Map<string, number[]>();
  for (const s of plan.steps)
    if (s.packProblem !== undefined)
      byProblem.set(s.packProblem, [...(byProblem.get(s.packProblem) ?? []), s.index]);
  for (const r of plan.reasons) {
    if (r.code === 'pack-missing') continue;
    out.push(`  • ${mark(r)}${r.text}`);
  }
  for (const [problem, indexes] of byProblem) {
    const text =
      plan.facts.platform === null
        ? `the platform is unknown, so no pack is picked for ${stepRanges(indexes)}; give it with --fact platform.id=<id> (--ask lists them), or plan with --install`
        : `no pack for ${stepRanges(indexes)}: ${problem}`;
    out.push(`  • ${text}`);
  }
  if (facts.length > 0)
    out.push(
      `  • missing facts (${facts.length}): ${facts.join(', ')}; give each with --fact path=value, or all in --facts FILE`,
    );
  return out;
}

/** The plan for a person: the verdict and what to do next first, then why, the path, the time, the notes. */
export function renderPlanText(plan: Plan, asked: PlanAsked = {}): string {
  const out: string[] = [];
  const colour = verdictColour[plan.verdict];
  const m = provenanceMarks(plan);
  // The mark opens its item, so that wrapping never pushes it onto a continuation line.
  const ill = (yes: boolean) => (yes ? `${pc.yellow('[illustrative]')} ` : '');
  // The headline says so when the target (e.g. --to latest) is an illustrative release.
  out.push(
    `${pc.bold(`${plan.product} ${plan.from} → ${plan.to}`)}${m.target ? ` ${pc.yellow('(illustrative target)')}` : ''}   ${colour(pc.bold(verdictText[plan.verdict].toUpperCase()))}`,
  );
  if (plan.steps.length > 0) {
    const e = plan.estimate;
    out.push(
      ill(m.estimate) +
        pc.dim(
          `${e.packHops} hop${e.packHops === 1 ? '' : 's'}, ~${formatDuration(e.downtimeSeconds)} down, a window of ${formatDuration(e.windowSeconds)}`,
        ),
    );
  }
  const banner = illustrativeBanner(plan);
  if (banner) out.push(pc.yellow(banner));
  out.push('', pc.bold('Next'));
  // A command stands on its own line, so it is copied whole.
  nextSteps(plan, asked).forEach((n, i) => {
    const [first, ...rest] = n.split('\n');
    const mark = ill(m.estimate && (first ?? '').startsWith('Book a window'));
    out.push(`  ${i + 1}. ${[`${mark}${first}`, ...rest].join('\n     ')}`);
  });
  out.push('');
  const why = whyLines(plan, (r) => ill(m.reason(r)));
  if (why.length > 0) out.push(pc.bold('Why'), ...why, '');

  if (plan.steps.length > 0) {
    const e = plan.estimate;
    out.push(
      pc.bold(
        `Path: ${e.packHops} hop${e.packHops === 1 ? '' : 's'}${e.manualSteps ? `, ${e.manualSteps} manual step${e.manualSteps === 1 ? '' : 's'}` : ''}`,
      ),
    );
    for (const s of plan.steps) {
      const tag =
        s.stage === 'prerequisite'
          ? pc.cyan('prerequisite ')
          : s.kind === 'manual'
            ? pc.yellow('by hand ')
            : '';
      out.push(
        `  ${String(s.index).padStart(2)}. ${ill(m.step(s.index) || m.estimate)}${tag}${pc.bold(s.title)}  ${pc.dim(`~${formatDuration(s.estimate.downtimeSeconds)} down`)}`,
      );
      out.push(pc.dim(`      ${s.reason.text}`));
      // A step without a pack is named under Why, with the others that lack one for that reason.
      if (s.pack)
        out.push(
          `      ${ill(m.pack(s.index))}${pc.dim(`pack ${s.pack.file} (${formatBytes(s.pack.size)})`)}`,
        );
      if (s.method) out.push(pc.dim(`      by ${describeMethod(s.method)}`));
      if (s.settle)
        out.push(
          `      ${pc.cyan('then wait')} until the settle check ${s.settle.check} passes (up to ${formatDuration(s.settle.timeoutSeconds)})${s.settle.reason ? pc.dim(`: ${s.settle.reason}`) : ''}`,
        );
    }
    out.push('');
  }
  for (const b of plan.blockedBy) out.push(pc.red(`  blocked at ${b.from}: ${b.reason}`));
  if (plan.blockedBy.length > 0) out.push('');
  if (plan.channel !== undefined) out.push(pc.dim(`Channel: ${plan.channel}`));
  if (plan.announced?.length)
    out.push(
      `Announced, not yet available: ${plan.announced.map((a) => `${a.version}${a.date ? ` (expected ${a.date})` : ''}`).join(', ')}`,
    );
  if (plan.channel !== undefined || plan.announced?.length) out.push('');

  const incs = plan.incompatibilities.filter((i) => i.outcome !== 'does-not-apply');
  if (incs.length > 0) {
    out.push(pc.bold('Incompatibilities on this path'));
    for (const i of incs) {
      const sev = severityLabel[i.severity];
      const why = Object.entries(i.evidence).map(([k, v]) => `${k} = ${formatValue(v)}`);
      if (i.missingFacts.length) why.push(`missing ${i.missingFacts.join(', ')}`);
      out.push(
        `  ${sev} ${ill(m.incompatibility.has(i.id))}${i.title} ${pc.dim(`(${i.id}, ${i.hop ? `on the hop ${i.hop.from} → ${i.hop.to}` : `from ${i.introducedIn}`}; ${i.outcome}${why.length ? `: ${why.join(', ')}` : ''})`)}`,
      );
      out.push(`           → ${i.action}`);
    }
    const skipped = plan.incompatibilities.length - incs.length;
    if (skipped > 0)
      out.push(pc.dim(`  (${skipped} more on this path do not apply to this installation)`));
    out.push('');
  }

  const prereqs = plan.externalPrerequisites.filter((p) => p.status !== 'not-applicable');
  if (prereqs.length > 0) {
    out.push(pc.bold('Outside systems'));
    for (const p of prereqs) {
      const st = prerequisiteLabel[p.status];
      out.push(
        `  ${st} ${ill(m.prerequisite.has(p.id))}${p.title}${p.status === 'satisfied' ? '' : `\n           → ${p.action}`}`,
      );
    }
    out.push('');
  }

  const custom = plan.customizedFiles;
  if (custom && custom.changed.length + custom.added.length + custom.removed.length > 0) {
    out.push(
      pc.bold(
        `Customized files: ${custom.changed.length} changed, ${custom.added.length} added, ${custom.removed.length} removed`,
      ),
    );
    const rows = [
      ...custom.changed.map((f) => `  ${pc.yellow('changed')}  ${f}`),
      ...custom.added.map((f) => `  ${pc.cyan('added  ')}  ${f}`),
      ...custom.removed.map((f) => `  ${pc.red('removed')}  ${f}`),
    ];
    out.push(...rows.slice(0, 20));
    if (rows.length > 20)
      out.push(
        pc.dim(
          asked.install
            ? `  … ${rows.length - 20} more, listed by:\nuplift facts ${installArgs(asked.install, asked)}`
            : `  … ${rows.length - 20} more, listed under customizedFiles in the facts`,
        ),
      );
    out.push(pc.dim('  Back them up; the upgrade must carry these edits forward.'), '');
  }

  if (plan.tasks.length > 0) {
    const automated = plan.tasks.filter((t) => t.check).length;
    out.push(
      pc.bold(`Pre-upgrade tasks: ${plan.tasks.length} (${automated} covered by automated checks)`),
    );
    for (const t of plan.tasks)
      out.push(
        `  ${t.check ? pc.dim(`[check ${t.check}]`) : pc.yellow('[by hand]')} ${ill(m.task.has(t.id))}${t.title}`,
      );
    out.push('');
  }

  if (plan.steps.length > 0) {
    const e = plan.estimate;
    out.push(pc.bold('Time'));
    // Here the mark follows the figure it qualifies, still early enough to stay on the first line.
    const est = m.estimate ? ` ${pc.yellow('[illustrative]')}` : '';
    out.push(
      `  download    ${formatDuration(e.downloadSeconds).padEnd(10)}${est} ${pc.dim(formatBytes(e.downloadBytes))}`,
    );
    out.push(`  backup      ${formatDuration(e.backupSeconds)}${est}`);
    out.push(`  downtime    ${pc.bold(formatDuration(e.downtimeSeconds))}${est}`);
    out.push(`  validation  ${formatDuration(e.validationSeconds)}${est}`);
    out.push(`  rollback    ${formatDuration(e.rollbackSeconds)}${est} ${pc.dim('(if needed)')}`);
    out.push(
      `  window      ${pc.bold(formatDuration(e.windowSeconds))}${est} ${pc.dim('to book: downtime + validation + rollback')}`,
    );
    // "X is unknown; its share … counted as 0" for several X is one assumption, said once.
    const zeroed = e.assumptions.flatMap(
      (a) => /^(\S+) is unknown; its share of the estimate was counted as 0$/.exec(a)?.[1] ?? [],
    );
    if (zeroed.length > 0)
      out.push(pc.dim(`  assumed: ${zeroed.join(', ')} unknown, so their share was counted as 0`));
    for (const a of e.assumptions)
      if (!/ is unknown; its share of the estimate was counted as 0$/.test(a))
        out.push(pc.dim(`  assumed: ${a}`));
    out.push('');
  }

  const n = plan.notes.counts;
  if (plan.notes.entries.length > 0) {
    out.push(
      pc.bold(
        `Release notes of ${plan.notes.releases.length} releases: ${n.feature} features, ${n.fixed} fixed (${n.security} security), ${n.limitation} limitations; ${n.applies} concern this installation`,
      ),
    );
    const shown = plan.notes.entries
      .filter((e) => e.status === 'applies' || e.status === 'unknown' || e.security)
      .slice(0, 12);
    for (const e of shown) {
      const mark =
        e.status === 'applies'
          ? pc.yellow('concerns you')
          : e.status === 'unknown'
            ? pc.magenta('unknown')
            : pc.red('security');
      out.push(
        `  ${mark.padEnd(12)} ${pc.dim(`[${e.type}]`)} ${ill(e.illustrative === true)}${e.title} ${pc.dim(`(${e.id}, ${e.release})`)}`,
      );
    }
    const rest = plan.notes.entries.length - shown.length;
    if (rest > 0)
      out.push(
        pc.dim(
          `  … ${rest} more, listed by:\nuplift notes --profile ${shellWord(asked.profile ?? plan.profile)} --from ${shellWord(plan.from)} --to ${shellWord(plan.to)}`,
        ),
      );
    out.push('');
  }
  out.push(pc.dim(`plan ${plan.hash}`));
  return `${out.join('\n')}\n`;
}
