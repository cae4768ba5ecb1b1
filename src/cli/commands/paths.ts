import Table from 'cli-table3';
import { ExitCode } from '../../errors/index.ts';
import { assemblePlan } from '../../plan/index.ts';
import { type ProfileFactsOptions, readProfileFacts } from '../profile-facts.ts';
import type { CommandResult } from '../types.ts';

export interface PathsCommandOptions extends ProfileFactsOptions {
  from?: string;
}

/** `uplift paths`: every version reachable from the installed one, with its hops. */
export async function handler(opts: PathsCommandOptions): Promise<CommandResult> {
  const { profile, facts, warnings } = await readProfileFacts(opts);
  const c = profile.catalog;
  const base = { profile: profile.manifest.name, catalog: c, facts, from: opts.from };
  const from = assemblePlan({ ...base, to: opts.from ?? facts.version ?? '' }).from;
  const targets = c.versions.filter((v) => c.scheme.compare(v, from) > 0);
  const rows = targets.map((to) => {
    const plan = assemblePlan({ ...base, to });
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
  const table = new Table({
    head: ['target', 'hops', 'verdict', 'path'],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [18, 6, 24, 70],
  });
  for (const r of rows) {
    table.push([
      r.to,
      String(r.hops + r.manualSteps),
      r.verdict,
      r.steps.length > 0 ? r.steps.join(' → ') : r.blockedBy.join('; '),
    ]);
  }
  const text = `${c.catalog.title}: from ${from}, ${rows.length} newer versions\n${table.toString()}\n`;
  return {
    data: { profile: profile.manifest.name, from, targets: rows },
    text,
    exitCode: ExitCode.ok,
    warnings,
  };
}
