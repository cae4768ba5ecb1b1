import Table from 'cli-table3';
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

const statusText: Record<CheckStatus, string> = {
  pass: pc.green('pass'),
  warn: pc.yellow('warn'),
  fail: pc.red(pc.bold('FAIL')),
  skip: pc.dim('skip'),
};

function renderReport(r: CheckReport): string {
  const head = `${pc.bold(`${r.profile} ${r.from} → ${r.to}`)}  ${r.install}  ${pc.dim(`(checked for ${r.stage})`)}`;
  if (r.results.length === 0) {
    return `${head}\n  no pre-upgrade task to check${r.from === r.to ? ': already at the target' : ''}\n`;
  }
  // 120 columns in all; text is wrapped here because the table would cut long paths short.
  const widths = [8, 23, 46, 38];
  const table = new Table({
    head: ['status', 'check', 'found', 'to do'],
    style: { head: [], border: [] },
    colWidths: widths,
  });
  for (const x of r.results) {
    table.push([
      statusText[x.status],
      x.id,
      wrap(x.message, (widths[2] ?? 40) - 2),
      wrap(x.remediation ?? '', (widths[3] ?? 40) - 2),
    ]);
  }
  const s = r.summary;
  const verdict =
    s.fail > 0
      ? pc.red(`${s.fail} failed: fix ${s.fail === 1 ? 'it' : 'them'} before upgrading`)
      : s.warn > 0
        ? pc.yellow('nothing failed; look at the warnings')
        : pc.green('ready');
  return `${head}\n${table.toString()}\n${s.pass} passed, ${s.warn} warned, ${s.fail} failed, ${s.skip} skipped — ${verdict}\n`;
}

/** Wraps at blanks, and breaks a word longer than a line (a path) after a `/`, or anywhere. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length <= width) {
      line += ` ${word}`;
      continue;
    }
    if (line !== '') lines.push(line);
    while (word.length > width) {
      const slash = word.lastIndexOf('/', width - 1);
      const cut = slash >= width / 3 ? slash + 1 : width;
      lines.push(word.slice(0, cut));
      word = word.slice(cut);
    }
    line = word;
  }
  lines.push(line);
  return lines.join('\n');
}
