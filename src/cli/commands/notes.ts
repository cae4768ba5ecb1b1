import pc from 'picocolors';
import type { NoteType } from '../../catalog/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { assemblePlan, digestNotes } from '../../plan/index.ts';
import { type ProfileFactsOptions, readProfileFacts } from '../profile-facts.ts';
import type { CommandResult } from '../types.ts';

export interface NotesCommandOptions extends ProfileFactsOptions {
  from?: string;
  to: string;
  type?: NoteType[];
  component?: string[];
  security?: boolean;
}

/** `uplift notes`: the release notes of every release on the way, deduplicated, what concerns you first. */
export async function handler(opts: NotesCommandOptions): Promise<CommandResult> {
  const { profile, facts, warnings } = await readProfileFacts(opts);
  // assemblePlan resolves and checks both versions the same way `plan` does.
  const { from, to } = assemblePlan({
    profile: profile.manifest.name,
    catalog: profile.catalog,
    facts,
    from: opts.from,
    to: opts.to,
  });
  const digest = digestNotes(profile.catalog, from, to, facts, {
    types: opts.type,
    components: opts.component,
    securityOnly: opts.security,
  });
  const lines = [
    pc.bold(
      `Release notes from ${from} to ${to}: ${digest.releases.length} releases, ${digest.entries.length} entries`,
    ),
  ];
  for (const e of digest.entries) {
    const flags = [
      e.security ? pc.red('security') : '',
      e.status === 'applies'
        ? pc.yellow('concerns you')
        : e.status === 'unknown'
          ? pc.magenta(`unknown: ${e.missingFacts?.join(', ')}`)
          : '',
      e.illustrative ? pc.dim('illustrative') : '',
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(
      `  ${pc.dim(e.type.padEnd(10))} ${e.id.padEnd(14)} ${e.title} ${pc.dim(`[${e.component ?? '-'}; ${e.release}]`)} ${flags}`,
    );
  }
  return {
    data: { profile: profile.manifest.name, from, to, ...digest },
    text: `${lines.join('\n')}\n`,
    exitCode: ExitCode.ok,
    warnings,
  };
}
