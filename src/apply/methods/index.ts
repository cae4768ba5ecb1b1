import type { PlanStep } from '../../plan/index.ts';
import type { HopContext, RollbackContext, RollbackOutcome } from '../hop-steps.ts';
import type { StatePaths } from '../paths.ts';
import type { ApplyOptions } from '../types.ts';
import { finishCommit, precheckHops, rollbackHop, runHop } from './uplift-pack.ts';
import {
  finishVendorCommit,
  restoreCompanionBackups,
  rollbackVendorHop,
  runVendorHop,
  type VendorInstallerOptions,
} from './vendor-installer.ts';

/**
 * How a hop is carried out, chosen by the profile's `apply.method`. Every method runs inside the
 * same plan, lock, journal, backup and automatic rollback; it supplies the hop's steps, its
 * rollback after the stop, and what its commit leaves. Resume picks the method the run's journal
 * names, so a crash is finished the way the run began.
 */
export interface HopMethod {
  /** Runs one hop, each step journaled through `timed` (a failure is a HopFailure). */
  run(ctx: HopContext): Promise<void>;
  /** Undoes a hop that failed after its stop; idempotent and crash-safe (resume runs it again). */
  rollback(rc: RollbackContext): Promise<RollbackOutcome>;
  /** Finishes a commit (idempotent: resume runs it after a crash in the commit). */
  finishCommit(p: StatePaths, runId: string, hop: number, from: string, to: string): Promise<void>;
  /**
   * Refuses, before a run of several hops changes anything, what one of its later hops would
   * refuse once earlier hops went in (a conflict at the third hop): the error that hop would give.
   */
  precheck?(
    o: ApplyOptions,
    p: StatePaths,
    runId: string,
    hops: readonly PlanStep[],
  ): Promise<void>;
}

export const hopMethodNames = ['uplift-pack', 'vendor-installer'] as const;
export type HopMethodName = (typeof hopMethodNames)[number];

const methods: Record<HopMethodName, HopMethod> = {
  /** uplift's own signed packs: stage a new tree beside the installation, switch by rename. */
  'uplift-pack': { run: runHop, rollback: rollbackHop, finishCommit, precheck: precheckHops },
  /** The vendor's own packs: its update script run in place, restored from backups on failure. */
  'vendor-installer': {
    run: runVendorHop,
    rollback: rollbackVendorHop,
    finishCommit: (p, runId, hop) => finishVendorCommit(p, runId, hop),
  },
};

export function hopMethod(name: string | undefined): HopMethod {
  const m = methods[(name ?? 'uplift-pack') as HopMethodName];
  if (!m) throw new Error(`unknown hop method ${name}`);
  return m;
}

export { extractVendorZip, installerBackupOf } from './vendor-installer.ts';
export { restoreCompanionBackups, type VendorInstallerOptions };
