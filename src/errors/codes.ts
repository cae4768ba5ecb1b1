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
  UPLIFT_PROFILE_MISSING: ExitCode.badInput,
  UPLIFT_PROFILE_EXISTS: ExitCode.badInput,
  UPLIFT_SAMPLE_FAILED: ExitCode.failed,
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
  // keys and signatures
  UPLIFT_KEY_EXISTS: ExitCode.badInput,
  UPLIFT_KEY_INVALID: ExitCode.badInput,
  // packs: integrity (1), policy (3), bad arguments (2)
  UPLIFT_PACK_NOT_A_PACK: ExitCode.failed,
  UPLIFT_PACK_TRUNCATED: ExitCode.failed,
  UPLIFT_PACK_TRAILING_DATA: ExitCode.failed,
  UPLIFT_PACK_METADATA_TOO_LARGE: ExitCode.failed,
  UPLIFT_PACK_MANIFEST_INVALID: ExitCode.failed,
  UPLIFT_PACK_SIGNATURE_MISSING: ExitCode.failed,
  UPLIFT_PACK_SIGNATURE_INVALID: ExitCode.failed,
  UPLIFT_PACK_KEY_UNTRUSTED: ExitCode.blocked,
  UPLIFT_PACK_KEY_REVOKED: ExitCode.blocked,
  UPLIFT_PACK_CORRUPT: ExitCode.failed,
  UPLIFT_PACK_ENTRY_UNLISTED: ExitCode.failed,
  UPLIFT_PACK_ENTRY_MISSING: ExitCode.failed,
  UPLIFT_PACK_ENTRY_DUPLICATE: ExitCode.failed,
  UPLIFT_PACK_UNSAFE_PATH: ExitCode.failed,
  UPLIFT_PACK_UNSAFE_ENTRY: ExitCode.failed,
  UPLIFT_PACK_SIZE_EXCEEDED: ExitCode.failed,
  UPLIFT_PACK_WRONG_PLATFORM: ExitCode.blocked,
  UPLIFT_PACK_FROM_MISMATCH: ExitCode.blocked,
  UPLIFT_PACK_DOWNGRADE: ExitCode.blocked,
  UPLIFT_PACK_NO_TRUST: ExitCode.badInput,
  UPLIFT_PACK_BUILD_INPUT: ExitCode.badInput,
  UPLIFT_PACK_STAGING_FAILED: ExitCode.failed,
  // vendor packs (zips the vendor publishes)
  UPLIFT_VENDOR_PACK_UNRECOGNISED: ExitCode.badInput,
  UPLIFT_VENDOR_PACK_NOT_IN_CATALOG: ExitCode.blocked,
  UPLIFT_VENDOR_PACK_SIZE_MISMATCH: ExitCode.failed,
  UPLIFT_VENDOR_PACK_CHECKSUM_MISMATCH: ExitCode.failed,
  UPLIFT_VENDOR_PACK_NO_CHECKSUM: ExitCode.blocked,
  UPLIFT_VENDOR_PACK_BAD_ZIP: ExitCode.failed,
  UPLIFT_VENDOR_PACK_WRONG_PLATFORM: ExitCode.blocked,
  UPLIFT_VENDOR_PACK_WRONG_HOP: ExitCode.blocked,
  // repository metadata
  UPLIFT_REPO_INVALID: ExitCode.badInput,
  UPLIFT_REPO_EXISTS: ExitCode.badInput,
  UPLIFT_REPO_SIGNATURE_THRESHOLD: ExitCode.blocked,
  UPLIFT_REPO_EXPIRED: ExitCode.blocked,
  UPLIFT_REPO_ROLLBACK: ExitCode.blocked,
  UPLIFT_REPO_ROOT_CHAIN: ExitCode.blocked,
  UPLIFT_REPO_NOT_TRUSTED: ExitCode.badInput,
  // fetch
  UPLIFT_FETCH_HTTP: ExitCode.failed,
  UPLIFT_FETCH_TIMEOUT: ExitCode.failed,
  UPLIFT_FETCH_MISMATCH: ExitCode.failed,
  UPLIFT_FETCH_NOT_IN_INDEX: ExitCode.blocked,
  UPLIFT_FETCH_LOCKED: ExitCode.locked,
  UPLIFT_FETCH_NO_PLATFORM: ExitCode.badInput,
  UPLIFT_FETCH_PLAN_INVALID: ExitCode.badInput,
  // apply, resume, rollback (docs/apply.md)
  UPLIFT_APPLY_PLAN_INVALID: ExitCode.badInput,
  UPLIFT_APPLY_PLAN_MISMATCH: ExitCode.blocked,
  UPLIFT_APPLY_BLOCKED: ExitCode.blocked,
  UPLIFT_APPLY_RISK_NOT_ACCEPTED: ExitCode.blocked,
  UPLIFT_APPLY_MANUAL_STEP: ExitCode.blocked,
  UPLIFT_APPLY_PACK_NOT_FOUND: ExitCode.badInput,
  UPLIFT_APPLY_CONFIRM: ExitCode.badInput,
  UPLIFT_APPLY_CROSS_DEVICE: ExitCode.badInput,
  UPLIFT_APPLY_LOCKED: ExitCode.locked,
  UPLIFT_APPLY_INCOMPLETE: ExitCode.incomplete,
  UPLIFT_APPLY_JOURNAL_CORRUPT: ExitCode.incomplete,
  UPLIFT_APPLY_CONFLICT: ExitCode.blocked,
  UPLIFT_APPLY_BASE_MISMATCH: ExitCode.failed,
  UPLIFT_APPLY_STAGE_FAILED: ExitCode.failed,
  UPLIFT_APPLY_NO_SPACE: ExitCode.failed,
  UPLIFT_APPLY_BACKUP_FAILED: ExitCode.failed,
  UPLIFT_APPLY_STOP_FAILED: ExitCode.failed,
  UPLIFT_APPLY_START_FAILED: ExitCode.failed,
  UPLIFT_APPLY_MIGRATION_FAILED: ExitCode.failed,
  UPLIFT_APPLY_PROBE_FAILED: ExitCode.failed,
  UPLIFT_APPLY_SMOKE_FAILED: ExitCode.failed,
  UPLIFT_APPLY_ROLLED_BACK: ExitCode.failed,
  UPLIFT_APPLY_ROLLBACK_FAILED: ExitCode.incomplete,
  UPLIFT_APPLY_NOTHING_TO_ROLL_BACK: ExitCode.badInput,
  UPLIFT_APPLY_WRONG_USER: ExitCode.blocked,
  UPLIFT_APPLY_VENDOR_STEP_FAILED: ExitCode.failed,
  // configuration merges
  UPLIFT_MERGE_STALE: ExitCode.failed,
  // lifecycle (a profile's lifecycle section at run time)
  UPLIFT_LIFECYCLE_VAR: ExitCode.badInput,
  UPLIFT_LIFECYCLE_KILL_FAILED: ExitCode.failed,
  // lifecycle (a profile's lifecycle section at run time)
  UPLIFT_LIFECYCLE_VAR: ExitCode.badInput,
  UPLIFT_LIFECYCLE_KILL_FAILED: ExitCode.failed,
} as const satisfies Record<string, ExitCode>;

export type UpliftCode = keyof typeof codes;
