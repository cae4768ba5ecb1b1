import { lstat, readFile, realpath } from 'node:fs/promises';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { ExitCode, UpliftError } from '../errors/index.ts';
import type { PackManifest } from '../pack/index.ts';
import { matchesAnyGlob, runScript, type ScriptResult } from '../util/index.ts';

type HookPhase = PackManifest['hooks'][number]['phase'];

/**
 * Runs a pack script (`node` or `sh`) in the installation with the given arguments: hooks get the
 * installation directory; configuration migrations get `OLD_INSTALL NEW_INSTALL` (docs/pack-format.md).
 */
function runPackScript(
  kind: 'node' | 'sh',
  script: string,
  install: string,
  args: string[],
  timeoutMs: number,
): Promise<ScriptResult> {
  const cmd = kind === 'node' ? process.execPath : '/bin/sh';
  return runScript(cmd, [script, ...args], { cwd: install, timeoutMs, until: 'close' });
}

function migrationFailed(what: string, detail: string): UpliftError {
  return new UpliftError('UPLIFT_APPLY_MIGRATION_FAILED', `${what} failed: ${detail}`, {
    hint: 'The installation was rolled back; send the message and the pack to the vendor.',
  });
}

/** The profile's globs a migration's database must match: `paths.data` and `paths.databases`. */
export function migrationDataGlobs(
  paths: { data?: readonly string[]; databases?: readonly string[] } | undefined,
): string[] {
  return [...(paths?.data ?? []), ...(paths?.databases ?? [])];
}

/** True when `path` is `dir` or lies below it (both absolute and real). */
function isWithin(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/** The real path of `path`, or of its deepest existing ancestor with the rest appended. */
async function realpathOfExisting(path: string): Promise<string> {
  const rest: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const i = at.lastIndexOf('/');
      if (i <= 0) throw err;
      rest.push(at.slice(i + 1));
      at = at.slice(0, i);
    }
  }
}

/**
 * Why the database a migration names may not be written, or undefined. The manifest path must
 * match the profile's data globs (lexically, verification has already refused `..`, absolute and
 * other escaping forms), and where it leads after every symbolic link must be inside the
 * installation, or inside the target of a link whose own path the data globs declare (a
 * database folder the operator moved to another disk). Anything else would let a pack write
 * outside what the backup and rollback cover.
 */
async function databaseProblem(
  install: string,
  database: string,
  dataGlobs: readonly string[],
): Promise<string | undefined> {
  if (!matchesAnyGlob(dataGlobs, database))
    return `is not in the profile's data paths (${dataGlobs.length === 0 ? 'none declared' : dataGlobs.join(', ')})`;
  const root = await realpath(install);
  const real = await realpathOfExisting(join(install, database));
  if (isWithin(root, real)) return undefined;
  const segments = database.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const prefix = segments.slice(0, i).join('/');
    const st = await lstat(join(install, prefix)).catch(() => undefined);
    if (!st?.isSymbolicLink() || !matchesAnyGlob(dataGlobs, prefix)) continue;
    const target = await realpathOfExisting(join(install, prefix));
    if (isWithin(target, real)) return undefined;
  }
  return `leads to ${real}, outside the installation ${root} and outside every data link`;
}

/**
 * Refuses, before anything is changed, a pack whose database migrations would write outside the
 * installation's declared data (see {@link databaseProblem}); exit 3, nothing changed.
 */
export async function checkMigrationTargets(
  install: string,
  m: PackManifest,
  dataGlobs: readonly string[],
): Promise<void> {
  for (const [i, d] of m.migrations.database.entries()) {
    const problem = await databaseProblem(install, d.database, dataGlobs);
    if (problem)
      throw new UpliftError(
        'UPLIFT_PACK_MIGRATION_PATH',
        `database migration ${d.id}: migrations.database[${i}].database ${JSON.stringify(d.database)} ${problem}`,
        {
          hint: 'Do not apply this pack: its migration would write outside the installation. Report it to its publisher; if the database really lives elsewhere, link its folder into the installation and declare that link in the profile (paths.data or paths.databases).',
          exitCode: ExitCode.blocked,
          location: { file: install, path: `migrations.database[${i}].database` },
          unchanged: true,
        },
      );
  }
}

export interface MigrationReport {
  database: string[];
  config: string[];
  hooks: string[];
}

/**
 * The pack's database migrations (each SQL script in one transaction, against the switched-in
 * tree's copy of the database) and then its configuration migrations, in manifest order. A
 * configuration migration reads the old generation (`oldInstall`, untouched) and writes the new.
 */
export async function runMigrations(
  install: string,
  oldInstall: string,
  packDir: string,
  m: PackManifest,
  report: MigrationReport,
  dataGlobs: readonly string[],
): Promise<void> {
  for (const d of m.migrations.database) {
    // Checked again on the switched-in tree, right before the open: what was checked before the
    // switch was the old generation.
    const problem = await databaseProblem(install, d.database, dataGlobs);
    if (problem) throw migrationFailed(`database migration ${d.id} on ${d.database}`, problem);
    const sql = await readFile(join(packDir, d.script.path), 'utf8');
    const db = new Database(join(install, d.database), { fileMustExist: true, timeout: 5000 });
    try {
      db.transaction(() => db.exec(sql))();
    } catch (err) {
      throw migrationFailed(`database migration ${d.id} on ${d.database}`, (err as Error).message);
    } finally {
      db.close();
    }
    report.database.push(d.id);
  }
  for (const c of m.migrations.config) {
    const script = join(packDir, c.script.path);
    const r = await runPackScript(c.run, script, install, [oldInstall, install], 300_000).catch(
      (err: Error) => ({ code: -1, output: err.message }),
    );
    if (r.code !== 0)
      throw migrationFailed(
        `configuration migration ${c.id}`,
        `exit ${r.code}: ${r.output || '(no output)'}`,
      );
    report.config.push(c.id);
  }
}

/** Runs the pack's hooks of one phase. */
export async function runHooks(
  install: string,
  packDir: string,
  m: PackManifest,
  phase: HookPhase,
  report: MigrationReport,
): Promise<void> {
  for (const h of m.hooks.filter((x) => x.phase === phase)) {
    const r = await runPackScript(
      h.run,
      join(packDir, h.script.path),
      install,
      [install],
      h.timeoutSeconds * 1000,
    ).catch((err: Error) => ({ code: -1, output: err.message }));
    if (r.code !== 0)
      throw migrationFailed(
        `hook ${h.id} (${phase})`,
        `exit ${r.code}: ${r.output || '(no output)'}`,
      );
    report.hooks.push(`${phase}:${h.id}`);
  }
}
