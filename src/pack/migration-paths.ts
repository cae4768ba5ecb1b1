import { matchesAnyGlob } from '../util/index.ts';
import { scriptPrefix } from './format.ts';
import { pathProblem } from './safe-path.ts';

/** A path of the installation that a pack's migration names, with the manifest field naming it. */
export interface MigrationPath {
  field: string;
  path: string;
  /** `database`: the file a SQL migration writes; `config`: a file a config migration reads or writes. */
  kind: 'database' | 'config';
}

interface MigrationsLike {
  migrations: {
    config: readonly { reads: readonly string[]; writes: readonly string[] }[];
    database: readonly { database: string }[];
  };
}

/** Every installation path the migrations of a manifest (or a migrations file) name. */
export function migrationPaths(m: MigrationsLike): MigrationPath[] {
  const out: MigrationPath[] = [];
  for (const [i, d] of m.migrations.database.entries())
    out.push({ field: `migrations.database[${i}].database`, path: d.database, kind: 'database' });
  for (const [i, c] of m.migrations.config.entries()) {
    for (const [k, p] of c.reads.entries())
      out.push({ field: `migrations.config[${i}].reads[${k}]`, path: p, kind: 'config' });
    for (const [k, p] of c.writes.entries())
      out.push({ field: `migrations.config[${i}].writes[${k}]`, path: p, kind: 'config' });
  }
  return out;
}

/**
 * Why a migration may not name this installation path, or undefined. Lexically, whatever the
 * installation: a relative, normalised POSIX path of plain segments (no `..`, absolute path,
 * backslash or drive letter: {@link pathProblem}), and not under the pack's own `.uplift-pack/`.
 * With the profile's data globs (`paths.data`), a database must also match one of them: a
 * migration writes only the customer data the profile declares, never a vendor file or a path
 * the profile does not know. (Where the path leads after symbolic links is apply's check, on the
 * real installation: src/apply/migrate.ts.)
 */
export function migrationPathProblem(
  p: MigrationPath,
  dataGlobs: readonly string[] | undefined,
): string | undefined {
  const lexical = pathProblem(p.path);
  if (lexical) return lexical;
  if (p.path.startsWith(scriptPrefix)) return `lies under the pack's reserved ${scriptPrefix}`;
  if (p.kind === 'database' && dataGlobs !== undefined && !matchesAnyGlob(dataGlobs, p.path))
    return dataGlobs.length === 0
      ? 'is not in a data path: the profile declares none (paths.data)'
      : `is not in the profile's data paths (paths.data: ${dataGlobs.join(', ')})`;
  return undefined;
}
