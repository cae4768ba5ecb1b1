import { join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { matchLines, matchOutput, runCommand } from './command.ts';
import { parseConfig } from './formats.ts';
import { readInstallText } from './install-file.ts';
import type { VersionSource } from './schema.ts';
import { describeVersionSource } from './version-name.ts';

/** What a version source gave: the version, or why there is none. */
export type VersionRead =
  | { version: string; file?: string }
  | { version?: undefined; why: string; file?: string; refused?: UpliftError };

/** Longer than this, a version source's value is not a version (a binary or runaway file). */
const maxVersionLength = 100;

/**
 * Reads the installed version from the profile's source. Never throws for the installation's
 * sake: a missing file, an unparsable document or a failing command is a reason, because a folder
 * that does not give a version is simply not an installation of this product. A version file that
 * is there but that detection refuses to read (a FIFO, a link out of the installation:
 * install-file.ts) is a reason too, with the coded error in `refused` for detection to throw.
 * A value with control characters or longer than 100 characters is no version.
 */
export async function readVersionSource(v: VersionSource, install: string): Promise<VersionRead> {
  if (v.command) {
    const out = await runCommand(v.command, install);
    if (!out.ok) return { why: out.why };
    return checked(matchOutput(out, v.pattern, 'version'), describeVersionSource(v));
  }
  const rel = describeVersionSource(v);
  const file = join(install, rel);
  let text: string | undefined;
  try {
    text = await readInstallText(install, rel);
  } catch (err) {
    if (!(err instanceof UpliftError)) throw err;
    return { why: err.message, file, refused: err };
  }
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
  return checked(found, rel, file);
}

function checked(found: unknown, rel: string, file?: string): VersionRead {
  if (typeof found !== 'string' || found.trim() === '')
    return { why: `${rel} does not name a version`, file };
  const version = found.trim();
  // C0 and C1 controls, DEL, and U+FFFD (bytes that are not UTF-8).
  if (version.length > maxVersionLength || /[\p{Cc}\ufffd]/u.test(version))
    return { why: `${rel} does not name a version: it holds ${quoteExcerpt(version)}`, file };
  return { version, file };
}

/**
 * A value from the installation, safe to echo in a message: at most 80 characters (then "…" and
 * the length), in double quotes, control characters escaped so a terminal never interprets them.
 */
function quoteExcerpt(value: string, max = 80): string {
  const chars = [...value];
  const shown = chars
    .slice(0, max)
    .join('')
    .replace(/[\p{Cc}"\\\u2028\u2029]/gu, (c) =>
      c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  return chars.length > max ? `"${shown}…" (${chars.length} characters)` : `"${shown}"`;
}
