import { ExitCode } from './exit-codes.ts';

/**
 * Every error code uplift can report, grouped by area, with the exit code it maps to.
 * Scripts match on these codes; never rename one.
 */
export const codes = {
  // usage
  UPLIFT_USAGE: ExitCode.badInput,
  UPLIFT_FILE_NOT_FOUND: ExitCode.badInput,
  UPLIFT_FILE_UNREADABLE: ExitCode.badInput,
  UPLIFT_PATH_UNWRITABLE: ExitCode.badInput,
  /** The disk (or quota) filled up while a command wrote a file; the message says what was kept. */
  UPLIFT_NO_SPACE: ExitCode.failed,
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
  UPLIFT_FACTS_UNDECLARED: ExitCode.badInput,
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
  UPLIFT_PLAN_UNKNOWN_CHANNEL: ExitCode.badInput,
  UPLIFT_PLAN_NOT_IN_CHANNEL: ExitCode.badInput,
  // report
  UPLIFT_REPORT_CHECKS_INVALID: ExitCode.badInput,
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
  UPLIFT_PACK_SIGNATURE_NOT_CANONICAL: ExitCode.failed,
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
  UPLIFT_PACK_MIGRATION_PATH: ExitCode.blocked,
  UPLIFT_PACK_EXPANSION: ExitCode.blocked,
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
  UPLIFT_REPO_NOT_CANONICAL: ExitCode.blocked,
  UPLIFT_REPO_ROOT_CHANGED: ExitCode.blocked,
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
  /** The old version's files are back, but its service did not come up: the service is down. */
  UPLIFT_APPLY_SERVICE_DOWN: ExitCode.failed,
  UPLIFT_APPLY_POST_SWITCH_FAILED: ExitCode.failed,
  UPLIFT_APPLY_NO_LIFECYCLE: ExitCode.badInput,
  UPLIFT_APPLY_PROFILE_UNKNOWN: ExitCode.badInput,
  UPLIFT_APPLY_NOTHING_TO_ROLL_BACK: ExitCode.badInput,
  UPLIFT_APPLY_WRONG_USER: ExitCode.blocked,
  UPLIFT_APPLY_VENDOR_STEP_FAILED: ExitCode.failed,
  UPLIFT_APPLY_SETTLE_TIMEOUT: ExitCode.failed,
  UPLIFT_APPLY_SETTLE_UNDECLARED: ExitCode.badInput,
  // service stop / start / status (docs/apply.md, "Service commands")
  UPLIFT_SERVICE_STOP_FAILED: ExitCode.failed,
  UPLIFT_SERVICE_START_FAILED: ExitCode.failed,
  UPLIFT_SERVICE_NOT_READY: ExitCode.failed,
  UPLIFT_SERVICE_VERSION_UNKNOWN: ExitCode.failed,
  // rollout across a topology (docs/rollout.md)
  UPLIFT_ROLLOUT_ENV_UNKNOWN: ExitCode.badInput,
  UPLIFT_ROLLOUT_GATE_REFUSED: ExitCode.blocked,
  UPLIFT_ROLLOUT_STATE_UNREACHABLE: ExitCode.failed,
  UPLIFT_ROLLOUT_NODE_FAILED: ExitCode.failed,
  UPLIFT_ROLLOUT_NODE_TIMEOUT: ExitCode.failed,
  /** An edge would start beside a backend of another version; it was not started. */
  UPLIFT_ROLLOUT_MIXED_VERSIONS: ExitCode.failed,
  UPLIFT_ROLLOUT_BALANCER_FAILED: ExitCode.failed,
  UPLIFT_ROLLOUT_FAILURE_RATIO: ExitCode.failed,
  /** The failure policy could not bring every node back to its version before the run. */
  UPLIFT_ROLLOUT_NOT_RESTORED: ExitCode.incomplete,
  UPLIFT_ROLLOUT_DEPLOYMENT_UNKNOWN: ExitCode.badInput,
  UPLIFT_ROLLOUT_CONFIRM: ExitCode.badInput,
  /** An earlier rollout of the environment did not finish: `rollout --resume` (or `--resume --abort`). */
  UPLIFT_ROLLOUT_UNFINISHED: ExitCode.incomplete,
  /** Another controller holds a deployment of the run. */
  UPLIFT_ROLLOUT_CLAIMED: ExitCode.locked,
  /** A node did not answer before the rollout started (its status or its plan): nothing was changed. */
  UPLIFT_ROLLOUT_NODE_UNREACHABLE: ExitCode.failed,
  /** A node's plan refuses the upgrade (blocked verdict, no path): nothing was changed. */
  UPLIFT_ROLLOUT_PLAN_REFUSED: ExitCode.blocked,
  /** A deployment's passEnv names a variable this controller's environment does not set. */
  UPLIFT_ROLLOUT_PASS_ENV_UNSET: ExitCode.badInput,
  // configuration merges
  UPLIFT_MERGE_STALE: ExitCode.failed,
  // topology (docs/topology.md)
  UPLIFT_TOPOLOGY_INVALID: ExitCode.badInput,
  UPLIFT_INVENTORY_INVALID: ExitCode.badInput,
  // lifecycle (a profile's lifecycle section at run time)
  UPLIFT_LIFECYCLE_VAR: ExitCode.badInput,
  UPLIFT_LIFECYCLE_KILL_FAILED: ExitCode.failed,
  // state store (docs/state.md)
  /** The PostgreSQL server (UPLIFT_DATABASE_URL) or the SQLite file cannot be opened. */
  UPLIFT_STATE_UNREACHABLE: ExitCode.failed,
  /** The database was migrated by a newer uplift than this one. */
  UPLIFT_STATE_TOO_NEW: ExitCode.failed,
  // uplift serve (docs/api.md)
  /** --listen is not HOST:PORT. */
  UPLIFT_SERVE_LISTEN_INVALID: ExitCode.badInput,
  /** A non-loopback --listen without --tls-cert and --tls-key. */
  UPLIFT_SERVE_TLS_REQUIRED: ExitCode.badInput,
  /** The address is taken or cannot be bound. */
  UPLIFT_SERVE_LISTEN_FAILED: ExitCode.failed,
  /** A token name that is not a short name of letters, digits, `.`, `_` and `-`. */
  UPLIFT_SERVE_TOKEN_NAME: ExitCode.badInput,
  /** `serve token create` with a name that is (or was) taken. */
  UPLIFT_SERVE_TOKEN_EXISTS: ExitCode.badInput,
  /** `serve token revoke` with a name that has no live token. */
  UPLIFT_SERVE_TOKEN_UNKNOWN: ExitCode.badInput,
  // uplift serve's HTTP refusals (the API's error bodies; docs/api.md "Errors")
  UPLIFT_SERVE_UNAUTHENTICATED: ExitCode.badInput,
  UPLIFT_SERVE_FORBIDDEN: ExitCode.blocked,
  UPLIFT_SERVE_CSRF: ExitCode.blocked,
  UPLIFT_SERVE_RATE_LIMITED: ExitCode.blocked,
  UPLIFT_SERVE_HOST: ExitCode.badInput,
  UPLIFT_SERVE_NOT_FOUND: ExitCode.badInput,
  /** A rollout job already runs for the environment (409): wait for it, pause or abort it. */
  UPLIFT_SERVE_BUSY: ExitCode.locked,
  /** Pause with no running rollout job for the environment (409). */
  UPLIFT_SERVE_NOT_RUNNING: ExitCode.blocked,
  /** Resume or abort with no unfinished run of the environment (409). */
  UPLIFT_SERVE_NOTHING_UNFINISHED: ExitCode.blocked,
  /** A failure the server does not explain to the client (its log does). */
  UPLIFT_SERVE_INTERNAL: ExitCode.failed,
  // load balancers (active/passive deployments: src/balancer, docs/topology.md)
  UPLIFT_BALANCER_UNREACHABLE: ExitCode.failed,
  UPLIFT_BALANCER_UNKNOWN_SERVER: ExitCode.badInput,
  UPLIFT_BALANCER_REFUSED: ExitCode.failed,
  UPLIFT_BALANCER_DRAIN_TIMEOUT: ExitCode.failed,
  UPLIFT_BALANCER_NOT_UP: ExitCode.failed,
  /** A node's server is a backup server or has weight 0: draining and enabling cannot move its traffic. */
  UPLIFT_BALANCER_SERVER_UNFIT: ExitCode.badInput,
  UPLIFT_BALANCER_COMMAND_FAILED: ExitCode.failed,
  // transports and node agents (docs/topology.md, "Transports")
  /** The SSH server's key is not in the pinned key or the known_hosts file: nothing was sent. */
  UPLIFT_SSH_HOST_UNKNOWN: ExitCode.badInput,
  /** The SSH server offered another key than the one pinned or known: refused, nothing was sent. */
  UPLIFT_SSH_HOST_KEY_CHANGED: ExitCode.blocked,
  UPLIFT_SSH_AUTH: ExitCode.failed,
  UPLIFT_SSH_CONNECT: ExitCode.failed,
  /** The connection to a node ended while a command or a copy was under way. */
  UPLIFT_TRANSPORT_LOST: ExitCode.failed,
  UPLIFT_TRANSPORT_TIMEOUT: ExitCode.failed,
  UPLIFT_TRANSPORT_FAILED: ExitCode.failed,
  UPLIFT_TRANSPORT_HASH_MISMATCH: ExitCode.failed,
  /** The node's Node.js runtime is missing, too old, or of another platform, arch or ABI. */
  UPLIFT_NODE_RUNTIME: ExitCode.badInput,
  // maintenance windows (docs/window.md)
  /** A blackout calendar (--calendar) is not iCalendar, or an event in it cannot be read. */
  UPLIFT_CALENDAR_INVALID: ExitCode.badInput,
  /** No window of the asked length fits the allowed hours outside the blackouts. */
  UPLIFT_WINDOW_NONE: ExitCode.blocked,
  /** The file given to `uplift plan --windows` is not `uplift window --json` of windows long enough. */
  UPLIFT_WINDOW_FILE_INVALID: ExitCode.badInput,
  // transfer logs (src/traffic, docs/traffic.md)
  /** A file given or declared as a transfer log is not one (most of its first lines unreadable). */
  UPLIFT_TRAFFIC_LOG_INVALID: ExitCode.badInput,
  /** The profile declares transfer logs, and none of them exists under the installation. */
  UPLIFT_TRAFFIC_LOG_MISSING: ExitCode.badInput,
  /** The profile has no traffic section and no log was given. */
  UPLIFT_TRAFFIC_NOT_DECLARED: ExitCode.badInput,
  UPLIFT_TRAFFIC_ZONE_INVALID: ExitCode.badInput,
} as const satisfies Record<string, ExitCode>;

export type UpliftCode = keyof typeof codes;
