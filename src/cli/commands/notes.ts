import pc from 'picocolors';
import type { NoteType } from '../../catalog/index.ts';
import { ExitCode } from '../../errors/index.ts';
import { assemblePlan, digestNotes } from '../../plan/index.ts';
import { type ProfileFactsOptions, readProfileFacts } from '../profile-facts.ts';
import type { CommandResult } from '../types.ts';

export interface NotesCommandOptions extends ProfileFactsOptions {
  from?: string;
  to: string;
  /** The release channel `--to` is chosen in (`--channel`). */
  channel?: string;
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
    ...(opts.channel !== undefined ? { channel: opts.channel } : {}),
  });
  const filters = filtersOf(opts);
  const digest = digestNotes(profile.catalog, from, to, facts, {
    types: opts.type,
    components: opts.component,
    securityOnly: opts.security,
  });
  const count = (f: Filter) => digestNotes(profile.catalog, from, to, facts, f.only).entries.length;
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
  if (digest.entries.length === 0 && filters.length > 0) lines.push(emptyBecause(filters, count));
  return {
    data: { profile: profile.manifest.name, from, to, ...digest },
    text: `${lines.join('\n')}\n`,
    exitCode: ExitCode.ok,
    warnings,
  };
}

/** One filter the command line gave, as typed and as the digest takes it. */
interface Filter {
  typed: string;
  only: Parameters<typeof digestNotes>[4];
}

function filtersOf(opts: NotesCommandOptions): Filter[] {
  const filters: Filter[] = [];
  if (opts.type?.length)
    filters.push({ typed: `--type ${opts.type.join(' ')}`, only: { types: opts.type } });
  if (opts.component?.length)
    filters.push({
      typed: `--component ${opts.component.join(' ')}`,
      only: { components: opts.component },
    });
  if (opts.security) filters.push({ typed: '--security', only: { securityOnly: true } });
  return filters;
}

/**
 * Which filter emptied the list: filters combine with AND, so each is counted alone, and one
 * that matches nothing by itself is named as the one to drop.
 */
function emptyBecause(filters: Filter[], count: (f: Filter) => number): string {
  const all = filters.map((f) => f.typed).join(' AND ');
  if (filters.length === 1) return `  no entries match ${all} on this path`;
  const alone = filters.map((f) => `${count(f)} match ${f.typed} alone`);
  return `  no entries match ${all} (filters combine with AND); ${alone.join(', ')}`;
}
