import { UpliftError } from '../../errors/index.ts';
import { createScheme } from '../generic.ts';
import type { LevelKind, ParsedVersion, VersionScheme } from '../types.ts';

export const prefix = 'regex:';

const levelGroups = ['level', 'build', 'revision'] as const;
const partGroups = ['major', 'minor', 'patch'] as const;

const kinds: Record<string, LevelKind> = {
  ga: 'ga',
  ra: 'ra',
  patch: 'patch',
  p: 'patch',
  fp: 'patch',
  sp: 'service-pack',
  'service-pack': 'service-pack',
  'dated-update': 'dated-update',
};

const schemeHint =
  'Write regex:<pattern> with a (?<major>…) or (?<release>…) group, e.g. regex:(?<major>\\d+)\\.(?<minor>\\d+)r(?<level>\\d+).';

/**
 * A scheme a profile declares without code, as `regex:<pattern>`. Named groups carry the meaning:
 * `major`/`minor`/`patch` or one dotted `release` group, `level` (or `build`, `revision`),
 * `prerelease`, and `kind` (ga, ra, patch, sp). The pattern must match the whole version.
 */
export function createRegexScheme(id: string): VersionScheme {
  if (!id.startsWith(prefix)) {
    throw new UpliftError(
      'UPLIFT_VERSION_SCHEME_UNKNOWN',
      `${JSON.stringify(id)} is not a regex scheme`,
      {
        hint: schemeHint,
      },
    );
  }
  const source = id.slice(prefix.length);
  let pattern: RegExp;
  try {
    // Wrapping keeps an alternation (a|b) from escaping the anchors. Keywords are case-insensitive
    // in every scheme (see VersionScheme.parse), so regex schemes are too.
    pattern = new RegExp(`^(?:${source})$`, 'i');
  } catch (cause) {
    throw new UpliftError(
      'UPLIFT_VERSION_SCHEME_UNKNOWN',
      `Version scheme ${JSON.stringify(id)} is not a valid regular expression: ${(cause as Error).message}`,
      {
        hint: schemeHint,
        cause,
      },
    );
  }
  const names = groupNames(source);
  const hasRelease = names.has('release');
  if (hasRelease === names.has('major')) {
    throw new UpliftError(
      'UPLIFT_VERSION_SCHEME_UNKNOWN',
      `Version scheme ${JSON.stringify(id)} needs exactly one of the named groups "major" and "release"`,
      { hint: schemeHint },
    );
  }

  return createScheme({
    id,
    description: `Versions matching /${source}/`,
    hint: `Write a version that matches /${source}/.`,
    parse: (version) => parseGroups(pattern.exec(version)?.groups, hasRelease),
  });
}

function parseGroups(
  groups: Record<string, string | undefined> | undefined,
  hasRelease: boolean,
): ParsedVersion | null {
  if (groups === undefined) return null;
  const release = hasRelease ? readDotted(groups.release) : readParts(groups);
  if (release === null) return null;

  const levelText = levelGroups.map((name) => groups[name]).find((text) => text);
  if (levelText !== undefined && !/^\d+$/.test(levelText)) return null;
  const level = levelText === undefined ? 0 : Number(levelText);

  const kindText = groups.kind?.toLowerCase();
  const levelKind = kindText ? (kinds[kindText] ?? 'other') : level === 0 ? 'ga' : 'other';
  const prerelease = groups.prerelease || undefined;
  return { release, level, levelKind, ...(prerelease !== undefined && { prerelease }) };
}

function readDotted(text: string | undefined): number[] | null {
  return text !== undefined && /^\d+(?:\.\d+)*$/.test(text) ? text.split('.').map(Number) : null;
}

function readParts(groups: Record<string, string | undefined>): number[] | null {
  const texts = partGroups.map((name) => groups[name] || undefined);
  if (texts.some((text) => text !== undefined && !/^\d+$/.test(text))) return null;
  // A missing group counts as 0, but trailing missing parts are left off so releaseOf spells
  // `7.1` rather than `7.1.0` when the pattern's patch group is optional.
  const last = texts.findLastIndex((text) => text !== undefined);
  return texts
    .slice(0, Math.max(last + 1, 1))
    .map((text) => (text === undefined ? 0 : Number(text)));
}

/** Named groups declared in a pattern; escapes and character classes are skipped, not groups. */
function groupNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/\\.|\[(?:\\.|[^\]\\])*\]|\(\?<([A-Za-z_$][\w$]*)>/g)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return names;
}
