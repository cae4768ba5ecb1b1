import type { Plan } from '../plan/index.ts';
import { formatDuration } from '../util/index.ts';
import { type ReportExtras, type ReportModel, reportModel } from './model.ts';

/** The plan as Markdown, for change boards and tickets. */
export function renderPlanMarkdown(plan: Plan, extras: ReportExtras = {}): string {
  return renderReportMarkdown(reportModel(plan, extras));
}

/** The report as Markdown: the same sections and marks as the HTML report (html.tsx). */
export function renderReportMarkdown(r: ReportModel): string {
  const out: string[] = [];
  const ill = (yes: boolean) => (yes ? ' *(illustrative)*' : '');
  const code = (s: string) => `\`${s}\``;
  out.push(
    `# Upgrade plan: ${r.title.product} ${r.title.from} → ${r.title.to}${r.title.illustrativeTarget ? ' *(illustrative target)*' : ''}`,
    '',
  );
  if (r.banner) out.push(`> **${esc(r.banner)}**`, '');
  out.push(`**Verdict: ${r.verdict.text}**`, '');
  for (const x of r.verdict.reasons)
    out.push(
      `- ${esc(x.text)}${ill(x.illustrative)}${x.missingFacts.length ? ` (missing: ${x.missingFacts.map(code).join(', ')})` : ''}`,
    );
  out.push('');
  out.push(
    `Profile ${code(r.ids.profile)} · catalog ${code(`${r.ids.catalog.slice(0, 19)}…`)} · plan ${code(r.ids.plan)}`,
    '',
  );

  out.push('## Steps', '');
  if (r.steps.length === 0) out.push('No steps.', '');
  else {
    out.push('| # | step | why | pack | downtime |', '|---|---|---|---|---|');
    for (const s of r.steps) {
      const pack = s.packIsFile ? s.pack.replace(/^(\S+) /, '`$1` ') : esc(s.pack);
      out.push(
        `| ${s.index} | ${esc(s.title)}${ill(s.illustrative)} | ${esc(s.why)}${s.settle ? `<br>${esc(s.settle)}` : ''} | ${pack}${ill(s.packIllustrative)} | ${s.downtime}${ill(r.time.illustrative)} |`,
      );
    }
    out.push('');
  }
  if (r.channel !== undefined) out.push(`Channel: ${code(r.channel)}`, '');
  if (r.announced.length)
    out.push(
      `Announced, not yet available: ${r.announced.map((a) => `${a.version}${a.date ? ` (expected ${a.date})` : ''}`).join(', ')}`,
      '',
    );

  out.push('## Path', '');
  const chosen = r.graph.edges.filter((e) => e.kind === 'chosen');
  const kindOf = new Map(r.graph.nodes.map((n) => [n.id, n]));
  if (chosen.length > 0) {
    out.push(`Chosen path: ${[chosen[0]?.from ?? '', ...chosen.map((e) => e.to)].join(' → ')}`, '');
    const stops = r.graph.nodes.filter((n) => n.kind === 'stop');
    for (const n of stops) out.push(`- stop ${n.label}: ${n.note ?? ''}${ill(n.illustrative)}`);
  } else out.push('No path is chosen.');
  for (const e of r.graph.edges.filter((x) => x.kind !== 'chosen'))
    out.push(
      `- ${e.kind === 'blocked' ? 'blocked' : 'conditional'}: ${e.from} → ${e.to} (${kindOf.get(e.kind === 'blocked' ? e.from : e.to)?.note ?? ''}${e.label && e.label !== 'blocked' ? `; ${e.label}` : ''})`,
    );
  out.push('');

  if (r.blocked.length > 0) {
    out.push('## Blocked', '');
    for (const b of r.blocked) out.push(`- from ${b.from}: ${esc(b.reason)}`);
    out.push('');
  }

  out.push('## Incompatibilities on this path', '');
  if (r.incompatibilities.length === 0) out.push('None apply to this installation.', '');
  for (const i of r.incompatibilities) {
    out.push(
      `- **${i.severity}** ${code(i.id)} (${i.where}): ${esc(i.title)}${ill(i.illustrative)} — ${i.outcome}${evidence(i.evidence, i.missingFacts)}`,
    );
    out.push(`  - Action: ${esc(i.action)}`);
  }
  if (r.incompatibilities.length > 0) out.push('');

  if (r.prerequisites.length > 0) {
    out.push('## Outside systems', '');
    for (const p of r.prerequisites)
      out.push(
        `- **${p.status}** ${esc(p.title)}${ill(p.illustrative)}${evidence(p.evidence, p.missingFacts)} — ${esc(p.action)}`,
      );
    out.push('');
  }

  if (r.customizedFiles.length > 0) {
    out.push('## Customized files', '');
    out.push(
      "Files of the installation that differ from the vendor's files of its version; back them up, the upgrade must carry these edits forward.",
      '',
    );
    for (const f of r.customizedFiles) out.push(`- ${f.kind}: ${code(f.file)}`);
    out.push('');
  }

  out.push('## Pre-upgrade tasks', '');
  for (const t of r.tasks)
    out.push(
      `- [ ] ${esc(t.title)}${ill(t.illustrative)}${t.check ? ` (automated check: ${code(t.check)})` : ' (by hand)'}`,
    );
  out.push('');

  out.push('## Check results', '');
  if (r.checks.howTo) out.push(r.checks.howTo, '');
  if (r.checks.rows.length > 0) {
    out.push('| check | result | found | what to do |', '|---|---|---|---|');
    for (const c of r.checks.rows)
      out.push(`| ${code(c.id)} | ${c.status} | ${esc(c.message)} | ${esc(c.remediation ?? '')} |`);
    out.push('');
  }

  out.push('## Time', '');
  out.push('| phase | estimate |', '|---|---|');
  const est = ill(r.time.illustrative);
  for (const row of r.time.rows)
    out.push(
      row.strong
        ? `| **${row.label}** | **${row.value}**${est} |`
        : `| ${row.label} | ${row.value}${est} |`,
    );
  out.push('');
  for (const a of r.time.assumptions) out.push(`- Assumed: ${esc(a)}`);
  if (r.time.assumptions.length > 0) out.push('');

  const t = r.timeline;
  const tIll = ill(t.illustrative);
  out.push('## Downtime timeline', '');
  out.push(`Basis: ${t.basis}.`, '');
  out.push('| phase | p50 | p90 | clients |', '|---|---|---|---|');
  for (const p of t.phases)
    out.push(
      `| ${p.phase} | ${formatDuration(p.p50)}${tIll} | ${formatDuration(p.p90)}${tIll} | ${p.downtime ? 'down' : 'up'} |`,
    );
  out.push(
    `| **downtime** | **${formatDuration(t.downtime.p50)}**${tIll} | **${formatDuration(t.downtime.p90)}**${tIll} | down |`,
  );
  out.push(
    `| **until validated** | **${formatDuration(t.total.p50)}**${tIll} | **${formatDuration(t.total.p90)}**${tIll} | |`,
  );
  out.push('');

  const w = r.windows;
  out.push('## Windows', '');
  if (w.trafficSummary) {
    out.push(`Traffic: ${w.trafficSummary}`, '');
    const quiet = quietestHours(w.heat ?? []);
    if (quiet.length > 0)
      out.push(
        `Quietest hours of the week (UTC): ${quiet.map((q) => `${q.label} (${q.value.toFixed(1)})`).join(', ')}`,
        '',
      );
  }
  if (w.windows) {
    if (w.windows.length === 0) out.push('No window fits.', '');
    else {
      out.push(
        '| rank | window | transfers | accounts | bytes | why |',
        '|---|---|---|---|---|---|',
      );
      for (const x of w.windows)
        out.push(
          `| ${x.rank} | ${x.when} | ${x.expectedTransfers} | ${x.expectedAccounts} | ${x.expectedBytes} | ${esc(x.reasons.join(' '))} |`,
        );
      out.push('');
    }
  }
  if (w.howTo) out.push(w.howTo, '');

  out.push('## Back-out plan', '');
  for (const s of r.backout.steps) out.push(`- **${s.when}**: ${esc(s.what)}`);
  out.push('', `**Point of no return**: ${esc(r.backout.pointOfNoReturn)}`, '');

  out.push('## Release notes', '');
  out.push(r.notes.summary, '');
  out.push('| type | id | title | release | concerns you | source |', '|---|---|---|---|---|---|');
  for (const n of r.notes.entries)
    out.push(
      `| ${n.type} | ${code(n.id)}${n.security ? ' 🔒' : ''} | ${esc(n.title)}${ill(n.illustrative)} | ${n.release} | ${n.status} | ${n.source ? esc(n.source) : ''} |`,
    );
  out.push('');
  return out.join('\n');
}

/** The five quietest hours of the week, from the 15-minute slots. */
function quietestHours(heat: number[]): { label: string; value: number }[] {
  const hours: { label: string; value: number }[] = [];
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  for (let h = 0; h < heat.length / 4; h++) {
    const value = heat.slice(h * 4, h * 4 + 4).reduce((a, b) => a + b, 0);
    hours.push({
      label: `${days[Math.floor(h / 24)]} ${String(h % 24).padStart(2, '0')}:00`,
      value,
    });
  }
  return hours.sort((a, b) => a.value - b.value).slice(0, 5);
}

function evidence(used: { name: string; value: string }[], missing: string[]): string {
  const parts = used.map((u) => `\`${u.name}\` = ${u.value}`);
  if (missing.length > 0) parts.push(`missing: ${missing.map((m) => `\`${m}\``).join(', ')}`);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

function esc(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
