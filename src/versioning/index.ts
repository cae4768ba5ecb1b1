import { UpliftError } from '../errors/index.ts';
import { schemes } from './api.ts';
import {
  type CachedVersion,
  compareReleases,
  compareVersions,
  isBaseVersion,
  readVersion,
} from './generic.ts';
import { createRegexScheme, prefix as regexPrefix } from './regex/index.ts';
import type { VersionScheme } from './types.ts';

export type { LevelKind, ParsedVersion, VersionScheme } from './types.ts';

// Profiles are few and each declares one pattern, so this stays small; caching keeps the
// scheme's own parse cache alive across getScheme calls.
const regexSchemes = new Map<string, VersionScheme>();

/**
 * The scheme with this id: a built-in (`semver`, `dotted-patch`) or a `regex:<pattern>` a
 * profile declares. Throws UPLIFT_VERSION_SCHEME_UNKNOWN for anything else or a broken pattern.
 */
export function getScheme(id: string): VersionScheme {
  const builtIn = schemes.get(id);
  if (builtIn !== undefined) return builtIn;
  if (id.startsWith(regexPrefix)) {
    let scheme = regexSchemes.get(id);
    if (scheme === undefined) {
      scheme = createRegexScheme(id);
      regexSchemes.set(id, scheme);
    }
    return scheme;
  }
  throw new UpliftError(
    'UPLIFT_VERSION_SCHEME_UNKNOWN',
    `Unknown version scheme ${JSON.stringify(id)}`,
    {
      hint: `Use one of ${listSchemes().join(', ')}, or regex:<pattern>.`,
    },
  );
}

/** Ids of the built-in schemes, sorted. */
export function listSchemes(): string[] {
  return [...schemes.keys()].sort();
}

/**
 * A sorted copy, oldest first; equal versions keep their order. Throws UPLIFT_VERSION_INVALID
 * naming the first version that does not parse.
 */
export function sortVersions(scheme: VersionScheme, versions: readonly string[]): string[] {
  // Parse once up front so an invalid version fails before sorting and each compare is array work.
  const keyed = versions.map((version) => ({ version, parsed: readVersion(scheme, version) }));
  keyed.sort((a, b) => compareVersions(a.parsed, b.parsed));
  return keyed.map((entry) => entry.version);
}

/** True when both versions belong to the same release: `5.3.0 Patch 2` and `5.3 GA`. */
export function sameRelease(scheme: VersionScheme, a: string, b: string): boolean {
  return compareReleases(readVersion(scheme, a).release, readVersion(scheme, b).release) === 0;
}

/**
 * The newest version in `versions` of the release that `release` names, pre-releases left out;
 * undefined when the list has none. `release` is any version of the release (`5.3.0 GA`,
 * `5.3.0 Patch 1`) or the release as releaseOf spells it (`5.3.0`; semver `2.4`). Every string
 * must parse (UPLIFT_VERSION_INVALID otherwise).
 */
export function latestOfRelease(
  scheme: VersionScheme,
  versions: readonly string[],
  release: string,
): string | undefined {
  const target = readRelease(scheme, release);
  let latest: { version: string; parsed: CachedVersion } | undefined;
  for (const version of versions) {
    const parsed = readVersion(scheme, version);
    if (parsed.prerelease !== undefined || compareReleases(parsed.release, target) !== 0) continue;
    if (latest === undefined || compareVersions(parsed, latest.parsed) > 0)
      latest = { version, parsed };
  }
  return latest?.version;
}

/**
 * The base (GA or RA) of the release that `release` names (as in latestOfRelease), as spelled in `versions`; the first
 * one when the list spells it twice (`5.4` and `5.4.0 GA`). Undefined when the list has none.
 */
export function baseOfRelease(
  scheme: VersionScheme,
  versions: readonly string[],
  release: string,
): string | undefined {
  const target = readRelease(scheme, release);
  return versions.find((version) => {
    const parsed = readVersion(scheme, version);
    return isBaseVersion(parsed) && compareReleases(parsed.release, target) === 0;
  });
}

/**
 * The element of `versions` equal to `input`, in the list's own spelling: for input `5.4 GA`
 * and a catalog listing `5.4.0`, returns `5.4.0`. Undefined when none is equal.
 */
export function findEqual(
  scheme: VersionScheme,
  versions: readonly string[],
  input: string,
): string | undefined {
  const wanted = readVersion(scheme, input);
  return versions.find((version) => compareVersions(readVersion(scheme, version), wanted) === 0);
}

/**
 * The release numbers `release` names. A releaseOf result need not be a version of its scheme
 * (semver `2.4`), so plain dotted numbers are accepted as a release too.
 */
function readRelease(scheme: VersionScheme, release: string): readonly number[] {
  const dotted = release.trim();
  if (!scheme.isValid(release) && /^\d+(?:\.\d+)*$/.test(dotted)) {
    return dotted.split('.').map(Number);
  }
  return readVersion(scheme, release).release;
}
