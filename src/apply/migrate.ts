import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UpliftError } from '../errors/index.ts';
import type { PackManifest } from '../pack/index.ts';
import { runScript, type ScriptResult } from '../util/index.ts';

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
): Promise<void> {
  for (const d of m.migrations.database) {
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
