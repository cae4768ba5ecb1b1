import { ExitCode } from '../../errors/index.ts';
import { getPlan } from '../../plan/index.ts';
import { renderPlanMarkdown } from '../../report/index.ts';
import { writeAtomically } from '../../util/index.ts';
import { profileArg } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { renderPlanText } from '../ui/render-plan.ts';

export interface PlanCommandOptions {
  profile?: string;
  install?: string;
  vendorManifest?: string;
  from?: string;
  to: string;
  channel?: string;
  facts?: string;
  fact: string[];
  allowUndeclared?: boolean;
  format: 'text' | 'json' | 'markdown';
  /** Also write the Markdown report to this file (for the change board), whatever the format. */
  report?: string;
}

/** `uplift plan`: should I upgrade, and how? */
export async function handler(opts: PlanCommandOptions): Promise<CommandResult> {
  const { profile, warnings } = await profileArg(opts);
  const { plan } = await getPlan({
    allowUndeclared: opts.allowUndeclared,
    warnings,
    profile,
    install: opts.install,
    vendorManifest: opts.vendorManifest,
    from: opts.from,
    to: opts.to,
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
    factsFile: opts.facts,
    factFlags: opts.fact,
  });
  let text =
    opts.format === 'markdown'
      ? renderPlanMarkdown(plan)
      : renderPlanText(plan, { install: opts.install });
  if (opts.report) {
    await writeAtomically(opts.report, renderPlanMarkdown(plan));
    if (opts.format === 'text') text += `report written to ${opts.report}\n`;
  }
  return {
    data: plan,
    text,
    exitCode: plan.verdict === 'blocked' ? ExitCode.blocked : ExitCode.ok,
    warnings,
  };
}
