import pc from 'picocolors';
import type { Plan, Verdict } from '../../plan/index.ts';
import { verdictText } from '../../report/index.ts';
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

/** The plan for a person: the verdict first, then the path, what to do, the time, the notes. */
export function renderPlanText(plan: Plan): string {
  const out: string[] = [];
  const colour = verdictColour[plan.verdict];
  out.push(
    `${pc.bold(`${plan.product} ${plan.from} → ${plan.to}`)}   ${colour(pc.bold(verdictText[plan.verdict].toUpperCase()))}`,
  );
  for (const r of plan.reasons) {
    const missing = r.missingFacts?.length
      ? pc.dim(` (missing fact: ${r.missingFacts.join(', ')})`)
      : '';
    out.push(`  • ${r.text}${missing}`);
  }
  out.push('');

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
        `  ${String(s.index).padStart(2)}. ${tag}${pc.bold(s.title)}  ${pc.dim(`~${formatDuration(s.estimate.downtimeSeconds)} down`)}`,
      );
      out.push(pc.dim(`      ${s.reason.text}`));
      if (s.pack) out.push(pc.dim(`      pack ${s.pack.file} (${formatBytes(s.pack.size)})`));
      else if (s.packProblem) out.push(pc.yellow(`      no pack: ${s.packProblem}`));
    }
    out.push('');
  }
  for (const b of plan.blockedBy) out.push(pc.red(`  blocked at ${b.from}: ${b.reason}`));
  if (plan.blockedBy.length > 0) out.push('');

  const incs = plan.incompatibilities.filter((i) => i.outcome !== 'does-not-apply');
  if (incs.length > 0) {
    out.push(pc.bold('Incompatibilities on this path'));
    for (const i of incs) {
      const sev = severityLabel[i.severity];
      const why = Object.entries(i.evidence).map(([k, v]) => `${k} = ${formatValue(v)}`);
      if (i.missingFacts.length) why.push(`unknown: ${i.missingFacts.join(', ')}`);
      out.push(
        `  ${sev} ${i.title} ${pc.dim(`(${i.id}, from ${i.introducedIn}; ${i.outcome}${why.length ? `: ${why.join(', ')}` : ''})`)}`,
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
      out.push(`  ${st} ${p.title}${p.status === 'satisfied' ? '' : `\n           → ${p.action}`}`);
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
      out.push(pc.dim(`  … ${rows.length - 20} more: uplift facts --install DIR`));
    out.push(pc.dim('  Back them up; the upgrade must carry these edits forward.'), '');
  }

  if (plan.tasks.length > 0) {
    const automated = plan.tasks.filter((t) => t.check).length;
    out.push(
      pc.bold(`Pre-upgrade tasks: ${plan.tasks.length} (${automated} covered by automated checks)`),
    );
    for (const t of plan.tasks)
      out.push(`  ${t.check ? pc.dim(`[check ${t.check}]`) : pc.yellow('[by hand]')} ${t.title}`);
    out.push('');
  }

  if (plan.steps.length > 0) {
    const e = plan.estimate;
    out.push(pc.bold('Time'));
    out.push(
      `  download    ${formatDuration(e.downloadSeconds).padEnd(10)} ${pc.dim(formatBytes(e.downloadBytes))}`,
    );
    out.push(`  backup      ${formatDuration(e.backupSeconds)}`);
    out.push(`  downtime    ${pc.bold(formatDuration(e.downtimeSeconds))}`);
    out.push(`  validation  ${formatDuration(e.validationSeconds)}`);
    out.push(`  rollback    ${formatDuration(e.rollbackSeconds)} ${pc.dim('(if needed)')}`);
    out.push(
      `  window      ${pc.bold(formatDuration(e.windowSeconds))} ${pc.dim('to book: downtime + validation + rollback')}`,
    );
    for (const a of e.assumptions) out.push(pc.dim(`  assumed: ${a}`));
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
        `  ${mark.padEnd(12)} ${pc.dim(`[${e.type}]`)} ${e.title} ${pc.dim(`(${e.id}, ${e.release})`)}`,
      );
    }
    const rest = plan.notes.entries.length - shown.length;
    if (rest > 0)
      out.push(
        pc.dim(
          `  … ${rest} more: uplift notes --profile ${plan.profile} --from "${plan.from}" --to "${plan.to}"`,
        ),
      );
    out.push('');
  }
  out.push(pc.dim(`plan ${plan.hash}`));
  return `${out.join('\n')}\n`;
}
