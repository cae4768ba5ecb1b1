import { readFile, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { ExitCode, UpliftError } from '../errors/index.ts';
import { describeIssues, parseYaml } from '../yaml/index.ts';
import { scriptPrefix } from './format.ts';
import { migrationPathProblem, migrationPaths } from './migration-paths.ts';
import { hashFile } from './release-tree.ts';
import { pathProblem } from './safe-path.ts';
import {
  type ConfigMigration,
  type DatabaseMigration,
  MigrationsFile,
  type PackHook,
  type PackScript,
} from './schema.ts';

/** A script to put into the payload: where it is on disk and what the manifest says of it. */
export interface ScriptSource {
  source: string;
  entry: PackScript;
}

export interface LoadedMigrations {
  config: ConfigMigration[];
  database: DatabaseMigration[];
  hooks: PackHook[];
  scripts: ScriptSource[];
}

export const noMigrations: LoadedMigrations = { config: [], database: [], hooks: [], scripts: [] };

/**
 * Reads `--migrations FILE.yaml`: validates it (errors name file:line:col and the field), and
 * hashes every script it names. Scripts are paths relative to the YAML file, inside its folder;
 * each goes into the payload as `.uplift-pack/<that path>`.
 */
export async function loadMigrations(
  file: string,
  dataGlobs?: readonly string[],
): Promise<LoadedMigrations> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UpliftError('UPLIFT_PACK_BUILD_INPUT', `${file} cannot be read`, {
      hint: 'Give --migrations the path of a migrations YAML file (docs/pack-format.md).',
      location: { file },
    });
  }
  const y = parseYaml(text, file, 'UPLIFT_PACK_BUILD_INPUT');
  const parsed = MigrationsFile.safeParse(y.value);
  if (!parsed.success) {
    const details = describeIssues(y, parsed.error);
    throw new UpliftError('UPLIFT_PACK_BUILD_INPUT', `${file}: ${details[0]?.message}`, {
      hint: 'See docs/pack-format.md, "Migrations and hooks", for the fields.',
      location: details[0]?.location,
      details,
    });
  }
  for (const p of migrationPaths({ migrations: parsed.data })) {
    const problem = migrationPathProblem(p, dataGlobs);
    // The YAML has no `migrations.` level: its fields are `database[0].database`, `config[0].reads[0]`.
    const field = p.field.replace(/^migrations\./, '');
    if (problem)
      throw new UpliftError(
        'UPLIFT_PACK_MIGRATION_PATH',
        `${file}: ${field}: ${JSON.stringify(p.path)} ${problem}`,
        {
          hint: "Name a path inside the installation, relative and without '..', that the profile declares as data (paths.data or paths.databases).",
          location: { file, path: field },
          exitCode: ExitCode.badInput,
        },
      );
  }
  const base = dirname(resolve(file));
  const scripts = new Map<string, ScriptSource>();
  const ids = new Set<string>();
  const script = async (rel: string, field: string, id: string): Promise<PackScript> => {
    if (ids.has(id))
      throw new UpliftError(
        'UPLIFT_PACK_BUILD_INPUT',
        `${file}: ${field}: id ${id} is used twice`,
        {
          hint: 'Give every migration and hook its own id.',
          location: { file, path: field },
        },
      );
    ids.add(id);
    const source = resolve(base, rel);
    const inside = relative(base, source).split('\\').join('/');
    const problem = pathProblem(inside);
    if (problem || inside.startsWith('../'))
      throw new UpliftError(
        'UPLIFT_PACK_BUILD_INPUT',
        `${file}: ${field}: script ${JSON.stringify(rel)} ${problem ?? 'lies outside the folder of the migrations file'}`,
        {
          hint: 'Keep scripts in the folder of the migrations file and name them by relative paths.',
          location: { file, path: field },
        },
      );
    const known = scripts.get(inside);
    if (known) return known.entry;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(source);
    } catch {
      st = undefined as never;
    }
    if (!st?.isFile())
      throw new UpliftError(
        'UPLIFT_PACK_BUILD_INPUT',
        `${file}: ${field}: script ${source} is not a file`,
        { hint: 'Check the script path.', location: { file, path: field } },
      );
    const entry: PackScript = {
      path: `${scriptPrefix}${inside}`,
      size: st.size,
      mode: st.mode & 0o111 ? 0o755 : 0o644,
      sha256: await hashFile(source),
    };
    scripts.set(inside, { source, entry });
    return entry;
  };
  const m = parsed.data;
  const out: LoadedMigrations = { config: [], database: [], hooks: [], scripts: [] };
  for (const [i, c] of m.config.entries())
    out.config.push({ ...c, script: await script(c.script, `config[${i}].script`, c.id) });
  for (const [i, d] of m.database.entries())
    out.database.push({
      id: d.id,
      ...(d.description === undefined ? {} : { description: d.description }),
      engine: d.engine,
      database: d.database,
      run: 'sql',
      script: await script(d.script, `database[${i}].script`, d.id),
    });
  for (const [i, h] of m.hooks.entries())
    out.hooks.push({ ...h, script: await script(h.script, `hooks[${i}].script`, h.id) });
  out.scripts = [...scripts.values()];
  return out;
}
