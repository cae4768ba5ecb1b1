import { describeMethod, type Plan } from '../plan/index.ts';
import { formatBytes, formatDuration, formatValue } from '../util/index.ts';
import { illustrativeBanner, provenanceMarks } from './provenance.ts';
import { verdictText } from './verdict.ts';

/** The plan as Markdown, for change boards and tickets. */
export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [];
  const e = plan.estimate;
  const m = provenanceMarks(plan);
  const ill = (yes: boolean) => (yes ? ' *(illustrative)*' : '');
  out.push(
    `# Upgrade plan: ${plan.product} ${plan.from} → ${plan.to}${m.target ? ' *(illustrative target)*' : ''}`,
    '',
  );
  const banner = illustrativeBanner(plan);
  if (banner) out.push(`> **${esc(banner)}**`, '');
  out.push(`**Verdict: ${verdictText[plan.verdict]}**`, '');
  for (const r of plan.reasons)
    out.push(
      `- ${esc(r.text)}${ill(m.reason(r))}${r.missingFacts?.length ? ` (missing: ${r.missingFacts.map((f) => `\`${f}\``).join(', ')})` : ''}`,
    );
  out.push('');
  out.push(
    `Profile \`${plan.profile}\` · catalog \`${plan.catalog.digest.slice(0, 19)}…\` · plan \`${plan.hash}\``,
    '',
  );

  out.push('## Steps', '');
  if (plan.steps.length === 0) out.push('No steps.', '');
  else {
    out.push('| # | step | why | pack | downtime |', '|---|---|---|---|---|');
    for (const s of plan.steps) {
      const pack = s.pack
        ? `\`${s.pack.file}\` (${formatBytes(s.pack.size)})`
        : s.method
          ? `by ${esc(describeMethod(s.method))}`
          : s.kind === 'manual'
            ? '—'
            : `none: ${esc(s.packProblem ?? '')}`;
      const settle = s.settle
        ? `<br>Then wait until the settle check \`${s.settle.check}\` passes (up to ${formatDuration(s.settle.timeoutSeconds)})${s.settle.reason ? `: ${esc(s.settle.reason)}` : ''}`
        : '';
      out.push(
        `| ${s.index} | ${esc(s.title)}${ill(m.step(s.index))} | ${esc(s.reason.text)}${settle} | ${pack}${ill(m.pack(s.index))} | ${formatDuration(s.estimate.downtimeSeconds)}${ill(m.estimate)} |`,
      );
    }
    out.push('');
  }
  if (plan.channel !== undefined) out.push(`Channel: \`${plan.channel}\``, '');
  if (plan.announced?.length)
    out.push(
      `Announced, not yet available: ${plan.announced.map((a) => `${a.version}${a.date ? ` (expected ${a.date})` : ''}`).join(', ')}`,
      '',
    );
  if (plan.blockedBy.length > 0) {
    out.push('## Blocked', '');
    for (const b of plan.blockedBy) out.push(`- from ${b.from}: ${esc(b.reason)}`);
    out.push('');
  }

  const incs = plan.incompatibilities.filter((i) => i.outcome !== 'does-not-apply');
  out.push('## Incompatibilities on this path', '');
  if (incs.length === 0) out.push('None apply to this installation.', '');
  for (const i of incs) {
    out.push(
      `- **${i.severity}** \`${i.id}\` (${i.hop ? `on the hop ${i.hop.from} → ${i.hop.to}` : `from ${i.introducedIn}`}): ${esc(i.title)}${ill(m.incompatibility.has(i.id))} — ${i.outcome}${evidence(i.evidence, i.missingFacts)}`,
    );
    out.push(`  - Action: ${esc(i.action)}`);
  }
  if (incs.length > 0) out.push('');

  const prereqs = plan.externalPrerequisites.filter((p) => p.status !== 'not-applicable');
  if (prereqs.length > 0) {
    out.push('## Outside systems', '');
    for (const p of prereqs)
      out.push(
        `- **${p.status}** ${esc(p.title)}${ill(m.prerequisite.has(p.id))}${evidence(p.evidence, p.missingFacts)} — ${esc(p.action)}`,
      );
    out.push('');
  }

  const custom = plan.customizedFiles;
  if (custom && custom.changed.length + custom.added.length + custom.removed.length > 0) {
    out.push('## Customized files', '');
    out.push(
      "Files of the installation that differ from the vendor's files of its version; back them up, the upgrade must carry these edits forward.",
      '',
    );
    for (const [kind, files] of [
      ['changed', custom.changed],
      ['added', custom.added],
      ['removed', custom.removed],
    ] as const) {
      for (const f of files) out.push(`- ${kind}: \`${f}\``);
    }
    out.push('');
  }

  out.push('## Pre-upgrade tasks', '');
  for (const t of plan.tasks)
    out.push(
      `- [ ] ${esc(t.title)}${ill(m.task.has(t.id))}${t.check ? ` (automated check: \`${t.check}\`)` : ' (by hand)'}`,
    );
  out.push('');

  out.push('## Time', '');
  out.push('| phase | estimate |', '|---|---|');
  const est = ill(m.estimate);
  out.push(
    `| download (${formatBytes(e.downloadBytes)}) | ${formatDuration(e.downloadSeconds)}${est} |`,
  );
  out.push(`| backup | ${formatDuration(e.backupSeconds)}${est} |`);
  out.push(
    `| downtime (${e.packHops} hops, ${e.manualSteps} manual) | ${formatDuration(e.downtimeSeconds)}${est} |`,
  );
  out.push(`| validation | ${formatDuration(e.validationSeconds)}${est} |`);
  out.push(`| rollback, if needed | ${formatDuration(e.rollbackSeconds)}${est} |`);
  out.push(`| **window to book** | **${formatDuration(e.windowSeconds)}**${est} |`, '');
  for (const a of e.assumptions) out.push(`- Assumed: ${esc(a)}`);
  if (e.assumptions.length > 0) out.push('');

  const n = plan.notes.counts;
  out.push('## Release notes', '');
  out.push(
    `${plan.notes.releases.length} releases read: ${n.feature} features, ${n.fixed} fixed issues (${n.security} security), ${n.limitation} known limitations; ${n.applies} concern this installation.`,
    '',
  );
  out.push('| type | id | title | release | concerns you | source |', '|---|---|---|---|---|---|');
  for (const entry of plan.notes.entries) {
    const mark = entry.security ? ' 🔒' : '';
    out.push(
      `| ${entry.type} | \`${entry.id}\`${mark} | ${esc(entry.title)}${ill(entry.illustrative === true)} | ${entry.release} | ${entry.status} | ${entry.source ? esc(`${entry.source.doc}: ${entry.source.section}`) : ''} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

function evidence(used: Record<string, unknown>, missing: string[]): string {
  const parts = Object.entries(used).map(([k, v]) => `\`${k}\` = ${formatValue(v)}`);
  if (missing.length > 0) parts.push(`missing: ${missing.map((m) => `\`${m}\``).join(', ')}`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
