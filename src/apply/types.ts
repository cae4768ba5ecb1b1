import type { PackManifest } from '../pack/index.ts';
import type { Plan } from '../plan/index.ts';
import type { Profile } from '../profile/index.ts';
import type { TrustSet } from '../signing/index.ts';
import type { HistoryHop } from './history.ts';
import type { HopStep } from './journal.ts';
import type { HopMethodName, VendorInstallerOptions } from './methods/index.ts';
import type { MigrationReport } from './migrate.ts';
import type { SettleReport } from './settle.ts';
import type { StageResult } from './stage.ts';

export interface ApplyOptions {
  install: string;
  plan: Plan;
  /** The profile the plan was made with: its lifecycle (start, stop, readiness, smoke) and paths. */
  profile: Profile;
  /** Why the operator goes ahead with a `not-recommended` verdict (`--accept-risk`); journaled. */
  acceptRisk?: string;
  /** Folder holding the packs the plan names (`--packs`, default the fetch cache). */
  packsDir: string;
  trust: TrustSet;
  product: string;
  platform: string;
  /** The profile's `detection.vendorManifest`, relative to the installation. */
  vendorManifestPath: string;
  /** A release tree (`DIR/tree` + `DIR/manifest.json`) of the installed version: the merge base when apply has none yet. */
  baseTree?: string;
  /** Progress lines for people. */
  onEvent?: (line: string) => void;
  /** How a hop is carried out (the profile's `apply.method`, docs/apply.md); default `uplift-pack`. */
  method?: HopMethodName;
  /** The `vendor-installer` method's settings (the profile's `apply.vendorInstaller`, resolved). */
  vendorInstaller?: VendorInstallerOptions;
  /** Keep the backups of this many runs, this one included (default 3); see src/apply/prune.ts. */
  keepRuns?: number;
  /** The pack expansion ratio allowed (`--max-expand`; default the pack verifier's). */
  maxExpand?: number;
  /**
   * `--leave-stopped`: after a successful commit the services are left stopped, whether or not
   * they ran before the run (the new version is still started, probed and smoke-tested before the
   * commit). A rollback still leaves them as the run found them.
   */
  leaveStopped?: boolean;
  /**
   * The data-volume facts the plan was made with (fact path -> value); kept in the run's history
   * line beside each hop's step seconds, for learned estimates (docs/estimates.md).
   */
  volume?: Record<string, number>;
}

export interface HopReport {
  hop: number;
  from: string;
  to: string;
  pack: string;
  kind: PackManifest['kind'];
  outcome: HistoryHop['outcome'];
  counts: StageResult['counts'];
  merges: StageResult['merges'];
  migrations: MigrationReport;
  backup?: string;
  old?: string;
  /**
   * Seconds from the stop until the readiness probes and their stability window passed (through
   * a rollback: until the old version was ready again).
   */
  downtimeSeconds?: number;
  stepSeconds: Partial<Record<HopStep, number>>;
  /** The wait at the stop this hop reached, before the next hop (the catalog's `settle`). */
  settle?: SettleReport;
  /** Where the switch's time went (seconds), for the bench and whoever tunes the downtime. */
  switchParts?: Record<string, number>;
}

export interface ApplyResult {
  runId: string;
  install: string;
  from: string;
  to: string;
  outcome: 'committed';
  /** The installed version now (the run's target). */
  version: string;
  /** Whether the services ran before the run. */
  wasRunning: boolean;
  /** What the run left the services as: running (and ready) or stopped. */
  service: 'running' | 'stopped';
  /** Set when `--leave-stopped` left the services stopped. */
  leftStopped?: boolean;
  hops: HopReport[];
  recoveredLock?: { reason: string; pid?: number };
  /** Backups removed after the commit (src/apply/prune.ts): this run's middle hops, older runs. */
  prunedBackups: string[];
  seconds: number;
}
