import pc from 'picocolors';
import {
  buildCheckContext,
  type CheckReport,
  type CheckStage,
  type CheckStatus,
  runChecks,
} from '../../checks/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { profileArg } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';

export interface CheckCommandOptions {
  install: string;
  profile?: string;
  vendorManifest?: string;
  to: string;
  channel?: string;
  facts?: string;
  fact: string[];
  allowUndeclared?: boolean;
  /** Comma-separated check ids. */
  only?: string;
  for: CheckStage;
}

/** `uplift check`: the pre-upgrade tasks of the plan, as checks; exit 3 when any fails. */
export async function handler(opts: CheckCommandOptions): Promise<CommandResult> {
  const { profile, warnings } = await profileArg(opts);
  const ctx = await buildCheckContext({
    install: opts.install,
    profile,
    vendorManifest: opts.vendorManifest,
    to: opts.to,
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
    factsFile: opts.facts,
    factFlags: opts.fact,
    allowUndeclared: opts.allowUndeclared,
    warnings,
    stage: opts.for,
  });
  const only = opts.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const report = await runChecks(ctx, { only });
  return {
    data: report,
    text: renderReport(report),
    exitCode: report.summary.fail > 0 ? ExitCode.blocked : ExitCode.ok,
    warnings,
  };
}

/** The groups of the text view, most urgent first, each with its heading. */
const groups: [CheckStatus, (n: number) => string][] = [
  ['fail', (n) => pc.red(pc.bold(`Failed (${n}): do what each says before upgrading`))],
  ['warn', (n) => pc.yellow(`Warnings (${n}): look at each; do it by hand if it applies`)],
  ['pass', (n) => pc.green(`Passed (${n})`)],
  ['skip', (n) => pc.dim(`Skipped (${n}): not for this installation`)],
];

/**
 * The text view (docs/output.md): the verdict and the counts first, then the checks grouped by
 * outcome, failures first, each with what it found and what to do. Plain lines for the CLI to
 * wrap to the width; a table would cut long paths short or run past the terminal.
 */
function renderReport(r: CheckReport): string {
  const head = `${pc.bold(`${r.profile} ${r.from} → ${r.to}`)}  ${r.install}  ${pc.dim(`(checked for ${r.stage})`)}`;
  if (r.results.length === 0) {
    return `${head}
  no pre-upgrade task to check${r.from === r.to ? ': already at the target' : ''}
`;
  }
  const s = r.summary;
  const verdict =
    s.fail > 0
      ? pc.red(`${s.fail} failed: fix ${s.fail === 1 ? 'it' : 'them'} before upgrading`)
      : s.warn > 0
        ? pc.yellow('nothing failed; look at the warnings')
        : pc.green('ready');
  const counts = `${s.pass} passed, ${s.warn} warned, ${s.fail} failed, ${s.skip} skipped`;
  const lines = [`${verdict} — ${counts}`, head];
  for (const [status, heading] of groups) {
    const entries = r.results.filter((x) => x.status === status);
    if (entries.length === 0) continue;
    lines.push('', heading(entries.length));
    for (const x of entries) {
      lines.push(`  • ${pc.bold(x.id)}: ${x.message}`);
      if (x.remediation && (status === 'fail' || status === 'warn'))
        lines.push(`    to do: ${x.remediation.replaceAll('\n', '\n      ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
