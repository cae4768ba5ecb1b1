// The function modules, not the package index: the index loads all of semver at start-up.
import compareSemver from 'semver/functions/compare.js';
import { UpliftError } from '../errors/index.ts';
import type { LevelKind, ParsedVersion, VersionScheme } from './types.ts';

/** A parse result shared through the cache; readonly so no caller can corrupt another's view. */
export interface CachedVersion {
  readonly release: readonly number[];
  readonly level: number;
  readonly levelKind: LevelKind;
  readonly prerelease?: string;
}

export interface SchemeDefinition {
  id: string;
  description: string;
  /** Receives the trimmed input; returns null when it is not a version of this scheme. */
  parse(version: string): ParsedVersion | null;
  /** How to write a valid version; shown as the hint of UPLIFT_VERSION_INVALID. */
  hint: string;
}

// The planner compares ~10^6 times over catalogs of ~10^4 versions; past this many distinct strings
// the input is not a catalog, and starting over is cheaper than tracking recency.
const cacheLimit = 100_000;

// Lets index.ts read the shared parse result without the defensive copy `scheme.parse` makes.
const readers = new WeakMap<VersionScheme, (version: string) => CachedVersion>();

/**
 * Builds a scheme from its `parse` alone. Every scheme orders the same way: release (zero padded),
 * then level, then pre-release. Pre-release comes last because it qualifies the whole version:
 * semver `2.4.1-rc.1` is newer than `2.4.0`.
 */
export function createScheme(def: SchemeDefinition): VersionScheme {
  const cache = new Map<string, CachedVersion | null>();

  function read(version: string): CachedVersion | null {
    const hit = cache.get(version);
    if (hit !== undefined) return hit;
    const parsed = def.parse(version.trim());
    const value = parsed !== null && isSane(parsed) ? parsed : null;
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(version, value);
    return value;
  }

  function readOrThrow(version: string): CachedVersion {
    const parsed = read(version);
    if (parsed === null) throw invalidVersion(scheme, version, def.hint);
    return parsed;
  }

  const scheme: VersionScheme = {
    id: def.id,
    description: def.description,
    parse(version) {
      const parsed = read(version);
      return parsed === null ? null : { ...parsed, release: [...parsed.release] };
    },
    isValid: (version) => read(version) !== null,
    compare: (a, b) => compareVersions(readOrThrow(a), readOrThrow(b)),
    equals: (a, b) => compareVersions(readOrThrow(a), readOrThrow(b)) === 0,
    isGA(version) {
      const parsed = read(version);
      return parsed !== null && isBaseVersion(parsed) && parsed.levelKind === 'ga';
    },
    isBase(version) {
      const parsed = read(version);
      return parsed !== null && isBaseVersion(parsed);
    },
    releaseOf: (version) => readOrThrow(version).release.join('.'),
  };
  readers.set(scheme, readOrThrow);
  return scheme;
}

/**
 * The parse result of `version`, or UPLIFT_VERSION_INVALID. Uses the scheme's cache when the scheme
 * was built by createScheme, so helpers that loop over a catalog do not re-run regexes.
 */
export function readVersion(scheme: VersionScheme, version: string): CachedVersion {
  const reader = readers.get(scheme);
  if (reader !== undefined) return reader(version);
  const parsed = scheme.parse(version);
  if (parsed === null) throw invalidVersion(scheme, version, `Check the ${scheme.id} version.`);
  return parsed;
}

export function compareVersions(a: CachedVersion, b: CachedVersion): number {
  return (
    compareReleases(a.release, b.release) ||
    Math.sign(a.level - b.level) ||
    comparePrereleases(a.prerelease, b.prerelease)
  );
}

/** Compares release arrays with zero padding: `[5, 4]` equals `[5, 4, 0]`. */
export function compareReleases(a: readonly number[], b: readonly number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

export function isBaseVersion(parsed: CachedVersion): boolean {
  return parsed.level === 0 && parsed.prerelease === undefined;
}

/** Semver precedence for pre-release tags; no tag ranks above any tag. */
function comparePrereleases(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  // Same release on both sides, so semver's ordering of the two is the ordering of the tags.
  return compareSemver(`0.0.0-${a}`, `0.0.0-${b}`);
}

// Numbers beyond 2^53 would compare equal to their neighbours, so such a string is not a version.
function isSane(parsed: ParsedVersion): boolean {
  return (
    parsed.release.length > 0 &&
    parsed.release.every(isCount) &&
    isCount(parsed.level) &&
    parsed.prerelease !== ''
  );
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function invalidVersion(scheme: VersionScheme, version: string, hint: string): UpliftError {
  return new UpliftError(
    'UPLIFT_VERSION_INVALID',
    `${JSON.stringify(version)} is not a valid ${scheme.id} version`,
    { hint },
  );
}
