import { ExitCode } from '../../errors/index.ts';
import { listProfiles, loadProfile } from '../../profile/index.ts';
import type { CommandResult } from '../types.ts';

/** `uplift profiles`: the built-in profiles and their catalogs. */
export async function handler(): Promise<CommandResult> {
  const rows = [];
  for (const name of await listProfiles()) {
    const p = await loadProfile(name);
    rows.push({
      name,
      title: p.manifest.title,
      releases: p.catalog.versions.length,
      newest: p.catalog.versions.at(-1) ?? '',
    });
  }
  const text = rows
    .map((r) => `${r.name.padEnd(16)} ${r.title} (${r.releases} releases, newest ${r.newest})`)
    .join('\n');
  return { data: rows, text: `${text}\n`, exitCode: ExitCode.ok };
}
