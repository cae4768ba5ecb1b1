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
  // detection
  UPLIFT_DETECT_NOT_INSTALLATION: ExitCode.badInput,
  UPLIFT_DETECT_CONFIG: ExitCode.badInput,
  // planning
  UPLIFT_PLAN_UNKNOWN_VERSION: ExitCode.badInput,
  UPLIFT_PLAN_DOWNGRADE: ExitCode.badInput,
  UPLIFT_PLAN_NO_PATH: ExitCode.blocked,
  // checks
  UPLIFT_CHECK_UNKNOWN: ExitCode.badInput,
  // backup
  UPLIFT_BACKUP_INSTALL_NOT_FOUND: ExitCode.badInput,
  UPLIFT_BACKUP_UNSUPPORTED_ENTRY: ExitCode.badInput,
  UPLIFT_BACKUP_OUT_INSIDE_INSTALL: ExitCode.badInput,
  UPLIFT_BACKUP_OUT_EXISTS: ExitCode.badInput,
  UPLIFT_BACKUP_NOT_A_BACKUP: ExitCode.badInput,
  UPLIFT_BACKUP_READ_FAILED: ExitCode.failed,
  UPLIFT_BACKUP_WRITE_FAILED: ExitCode.failed,
  UPLIFT_BACKUP_FILE_CHANGED: ExitCode.failed,
  UPLIFT_BACKUP_SQLITE_COPY_FAILED: ExitCode.failed,
  UPLIFT_BACKUP_STOP_FAILED: ExitCode.failed,
  UPLIFT_BACKUP_START_FAILED: ExitCode.failed,
  UPLIFT_BACKUP_CORRUPT: ExitCode.failed,
  UPLIFT_BACKUP_TRUNCATED: ExitCode.failed,
  UPLIFT_BACKUP_ENTRY_MISMATCH: ExitCode.failed,
  UPLIFT_BACKUP_UNSAFE_ENTRY: ExitCode.failed,
  UPLIFT_RESTORE_SERVICE_RUNNING: ExitCode.failed,
  UPLIFT_RESTORE_STOP_FAILED: ExitCode.failed,
  UPLIFT_RESTORE_START_FAILED: ExitCode.failed,
  UPLIFT_RESTORE_NO_SPACE: ExitCode.failed,
  UPLIFT_RESTORE_CROSS_DEVICE: ExitCode.badInput,
  UPLIFT_RESTORE_INCOMPLETE: ExitCode.incomplete,
} as const satisfies Record<string, ExitCode>;

export type UpliftCode = keyof typeof codes;
