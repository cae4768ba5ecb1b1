import { mkdir, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ExitCode, shellWord, UpliftError, unwritablePathError } from '../../errors/index.ts';
import { declaredFacts, factsJsonSchema } from '../../facts/index.ts';
import {
  catalogSkeleton,
  findProfiles,
  guessInstall,
  hasProfile,
  loadProfile,
  type ProfileSource,
  profileNameOf,
  profileSkeleton,
} from '../../profile/index.ts';
import { writeAtomically } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';

/** One line of `uplift profiles`. */
interface ProfileRow {
  name: string;
  dir: string;
  source: ProfileSource;
  entry: string;
  shadowed: boolean;
  shadowedBy?: string;
  title: string;
  releases: number;
  newest: string;
  /** The profile does not load: why. */
  error?: Record<string, unknown>;
}

/** `uplift profiles`: every profile on the search path, shadowed ones flagged. */
export async function handler(): Promise<CommandResult> {
  const rows: ProfileRow[] = [];
  const warnings: string[] = [];
  for (const f of await findProfiles()) {
    const base = {
      name: f.name,
      dir: f.dir,
      source: f.source,
      entry: f.entry,
      shadowed: f.shadowedBy !== undefined,
      ...(f.shadowedBy ? { shadowedBy: f.shadowedBy } : {}),
    };
    try {
      const p = await loadProfile(f.dir);
      rows.push({
        ...base,
        title: p.manifest.title,
        releases: p.catalog.versions.length,
        newest: p.catalog.versions.at(-1) ?? '',
      });
    } catch (err) {
      if (!(err instanceof UpliftError)) throw err;
      rows.push({ ...base, title: '', releases: 0, newest: '', error: err.toJSON() });
      warnings.push(`the profile in ${f.dir} does not load: ${err.message}`);
    }
  }
  const from = (r: ProfileRow) =>
    r.source === 'built-in' ? 'built-in' : `UPLIFT_PROFILE_PATH ${r.entry}`;
  const text = rows
    .map((r) => {
      const what = r.error
        ? 'does not load'
        : `${r.title} (${r.releases} releases, newest ${r.newest})`;
      const shadow = r.shadowedBy ? `\n${' '.repeat(17)}shadowed by ${r.shadowedBy}` : '';
      return `${r.name.padEnd(16)} ${what}\n${' '.repeat(17)}${r.dir} (${from(r)})${shadow}`;
    })
    .join('\n');
  return { data: rows, text: `${text}\n`, exitCode: ExitCode.ok, warnings };
}

export interface ProfileInitOptions {
  install: string;
  name?: string;
  title?: string;
  force?: boolean;
}

/** `uplift profile init DIR --install PATH`: a commented first profile that loads as it is. */
export async function init(dir: string, opts: ProfileInitOptions): Promise<CommandResult> {
  const install = await realpath(resolve(opts.install)).catch(() => undefined);
  if (!install || !(await stat(install)).isDirectory())
    throw new UpliftError(
      'UPLIFT_FILE_NOT_FOUND',
      `the installation ${opts.install} is not a folder`,
      {
        hint: 'Pass --install with the folder of an installation of the product.',
        location: { file: opts.install },
        unchanged: true,
      },
    );
  const out = resolve(dir);
  if (hasProfile(out) && !opts.force)
    throw new UpliftError('UPLIFT_PROFILE_EXISTS', `${join(out, 'profile.yaml')} already exists`, {
      hint: 'Choose another folder, or pass --force to overwrite its profile.yaml and catalog.yaml.',
      location: { file: join(out, 'profile.yaml') },
      unchanged: true,
    });
  const name = opts.name ?? profileNameOf(basename(out));
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new UpliftError('UPLIFT_USAGE', `--name ${JSON.stringify(name)} is not a profile name`, {
      hint: 'Use lower-case letters, digits and dashes, e.g. --name my-product.',
      unchanged: true,
    });
  const title = opts.title ?? name;
  const guesses = await guessInstall(install);
  await mkdir(out, { recursive: true }).catch((err: unknown) => {
    throw unwritablePathError(err, out, 'the profile folder') ?? err;
  });
  await writeAtomically(
    join(out, 'catalog.yaml'),
    catalogSkeleton({ name, title, version: guesses.version?.value }),
  );
  await writeAtomically(
    join(out, 'profile.yaml'),
    profileSkeleton({ name, title, install, guesses }),
  );
  const data = { dir: out, name, install, guesses };
  const lines = [
    `wrote ${join(out, 'profile.yaml')} and catalog.yaml (profile ${name})`,
    `  version   ${guesses.version ? `${guesses.version.value} (from ${guesses.version.file})` : 'not found: name the version file in detection.version'}`,
    `  config    ${guesses.config.map((c) => c.file).join(', ') || 'none found'}`,
    `  data      ${guesses.data.join(', ') || 'none found'}`,
    '  next      check every guess, then see what the profile reads:',
    `  uplift facts --profile ${shellWord(dir)} --install ${shellWord(opts.install)}`,
  ];
  return { data, text: `${lines.join('\n')}\n`, exitCode: ExitCode.ok };
}

/** `uplift profile schema NAME --facts`: the JSON Schema of the profile's facts files. */
export async function factsSchema(name: string): Promise<CommandResult> {
  const profile = await loadProfile(name);
  const declared = declaredFacts(profile.manifest);
  if (!declared)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `the profile ${profile.manifest.name} declares no facts, so its facts files have no schema`,
      {
        location: { file: join(profile.dir, 'profile.yaml'), path: 'facts' },
        hint: 'declare the facts under facts: in profile.yaml (docs/profiles.md, "Facts")',
      },
    );
  const schema = factsJsonSchema(declared);
  return { data: schema, text: JSON.stringify(schema, null, 2), exitCode: ExitCode.ok };
}
