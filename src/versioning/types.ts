/**
 * The contract every version scheme implements. A scheme turns a product's version strings into
 * comparable values and knows which "release" a version belongs to, so the planner can reason about
 * "the latest patch of 5.3.0" or "5.4 GA" without knowing how a vendor spells its versions.
 *
 * Cross-product examples (scheme → input → meaning):
 * - `semver`        `2.4.1`            release 2.4, level 1
 * - `dotted-patch`  `5.3.0 Patch 14`   release 5.3.0, level 14 (a patch)
 * - `dotted-patch`  `5.2.1 SP9`        release 5.2.1, level 9 (a service pack)
 * - `dotted-patch`  `5.5-20240829`     release 5.5, level 20240829 (a dated update)
 * - `regex:^(?<major>\d+)\.(?<minor>\d+)r(?<level>\d+)$`  `7.1r3`  release 7.1, level 3
 */
export interface ParsedVersion {
  /** Numeric release components, compared with zero padding: `[5, 4]` equals `[5, 4, 0]`. */
  release: number[];
  /** Position inside the release; 0 is the release's base (GA). Higher is newer. */
  level: number;
  /**
   * What the level is, for display and for "is GA": `ga`, `ra` (restricted availability base),
   * `patch`, `service-pack`, `dated-update`, or `other` for schemes that do not say.
   */
  levelKind: LevelKind;
  /** A pre-release tag (semver `-rc.1`); a pre-release sorts before the same version without one. */
  prerelease?: string;
}

export type LevelKind = 'ga' | 'ra' | 'patch' | 'service-pack' | 'dated-update' | 'other';

export interface VersionScheme {
  /** Registry id (`semver`, `dotted-patch`) or the full `regex:<pattern>` a profile declared. */
  readonly id: string;
  /** One line shown by `uplift catalog validate` and in docs. */
  readonly description: string;
  /**
   * Parses a version string, or returns null when it is not a version of this scheme.
   * Leading and trailing blanks are ignored; keyword case is ignored (`patch 3` = `Patch 3`).
   */
  parse(version: string): ParsedVersion | null;
  /** True when `parse` succeeds. */
  isValid(version: string): boolean;
  /**
   * Orders two versions: negative when a < b, 0 when equal, positive when a > b.
   * `5.4` = `5.4 GA` = `5.4.0 GA`; `5.3.0 Patch 14` > `5.3.0 GA`; `5.5-20240829` > `5.5 GA`.
   * Throws UpliftError `UPLIFT_VERSION_INVALID` when either side does not parse.
   */
  compare(a: string, b: string): number;
  /** compare(a, b) === 0. */
  equals(a: string, b: string): boolean;
  /**
   * True for the general-availability base of a release: `5.3.0 GA`, `5.4`, `2.4.0`.
   * A restricted-availability base (`5.3.5 RA`) and any patch, service pack, dated update or
   * pre-release are not GA.
   */
  isGA(version: string): boolean;
  /** True for the base of a release (GA or RA): level 0 with no pre-release. */
  isBase(version: string): boolean;
  /** The release a version belongs to, spelled canonically: `5.3.0 Patch 14` → `5.3.0`; `2.4.1` → `2.4`. */
  releaseOf(version: string): string;
}
