import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchLines, matchOutput, runCommand } from './command.ts';
import { parseConfig } from './formats.ts';
import type { VersionSource } from './schema.ts';
import { describeVersionSource } from './version-name.ts';

/** What a version source gave: the version, or why there is none. */
export type VersionRead =
  | { version: string; file?: string }
  | { version?: undefined; why: string; file?: string };

/**
 * Reads the installed version from the profile's source. Never throws for the installation's
 * sake: a missing file, an unparsable document or a failing command is a reason, because a folder
 * that does not give a version is simply not an installation of this product.
 */
export async function readVersionSource(v: VersionSource, install: string): Promise<VersionRead> {
  if (v.command) {
    const out = await runCommand(v.command, install);
    if (!out.ok) return { why: out.why };
    const version = matchOutput(out, v.pattern, 'version');
    return version ? { version } : { why: `${describeVersionSource(v)} does not name a version` };
  }
  const rel = describeVersionSource(v);
  const file = join(install, rel);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { why: `${rel} is missing`, file };
  let found: unknown;
  if (v.file !== undefined) found = matchLines(text, v.pattern as string, 'version');
  else {
    const format = v.json !== undefined ? 'json' : v.yaml !== undefined ? 'yaml' : 'xml';
    try {
      const doc = parseConfig(text, format, file);
      found = doc.select((v.path ?? v.xpath) as string)[0];
    } catch (err) {
      return { why: `${rel} cannot be read: ${(err as Error).message}`, file };
    }
    if (typeof found === 'number') found = String(found);
    if (typeof found === 'string' && v.pattern !== undefined)
      found = matchLines(found, v.pattern, 'version');
  }
  if (typeof found === 'string' && found.trim() !== '') return { version: found.trim(), file };
  return { why: `${rel} does not name a version`, file };
}
