import { ExitCode } from './exit-codes.ts';

/**
 * Every error code uplift can report, grouped by area, with the exit code it maps to.
 * Scripts match on these codes; never rename one.
 */
export const codes = {
  // usage
  UPLIFT_USAGE: ExitCode.badInput,
  UPLIFT_FILE_NOT_FOUND: ExitCode.badInput,
  // profiles
  UPLIFT_PROFILE_UNKNOWN: ExitCode.badInput,
  UPLIFT_PROFILE_INVALID: ExitCode.badInput,
  // catalog
  UPLIFT_CATALOG_YAML: ExitCode.badInput,
  UPLIFT_CATALOG_INVALID: ExitCode.badInput,
  // facts
  UPLIFT_FACTS_INVALID: ExitCode.badInput,
  // versions
  UPLIFT_VERSION_SCHEME_UNKNOWN: ExitCode.badInput,
  UPLIFT_VERSION_INVALID: ExitCode.badInput,
  // planning
  UPLIFT_PLAN_UNKNOWN_VERSION: ExitCode.badInput,
  UPLIFT_PLAN_DOWNGRADE: ExitCode.badInput,
  UPLIFT_PLAN_NO_PATH: ExitCode.blocked,
  // checks
  UPLIFT_CHECK_INSTALL_NOT_FOUND: ExitCode.badInput,
  UPLIFT_CHECK_UNKNOWN: ExitCode.badInput,
} as const satisfies Record<string, ExitCode>;

export type UpliftCode = keyof typeof codes;
