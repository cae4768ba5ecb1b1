import { ExitCode } from '../../errors/index.ts';
import { getPlan } from '../../plan/index.ts';
import { renderPlanMarkdown } from '../../report/index.ts';
import type { CommandResult } from '../types.ts';
import { renderPlanText } from '../ui/render-plan.ts';

export interface PlanCommandOptions {
  profile?: string;
  install?: string;
  vendorManifest?: string;
  from?: string;
  to: string;
  facts?: string;
  fact: string[];
  format: 'text' | 'json' | 'markdown';
}

/** `uplift plan`: should I upgrade, and how? */
export async function handler(opts: PlanCommandOptions): Promise<CommandResult> {
  const { plan } = await getPlan({
    profile: opts.profile,
    install: opts.install,
    vendorManifest: opts.vendorManifest,
    from: opts.from,
    to: opts.to,
    factsFile: opts.facts,
    factFlags: opts.fact,
  });
  const text = opts.format === 'markdown' ? renderPlanMarkdown(plan) : renderPlanText(plan);
  return {
    data: plan,
    text,
    exitCode: plan.verdict === 'blocked' ? ExitCode.blocked : ExitCode.ok,
  };
}
