import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { restoreBackup } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import type { Profile } from '../profile/index.ts';
import { crashPoint, fsyncDir } from '../util/index.ts';
import { finishRun, type HistoryEntry, type HistoryHop, readHistory } from './history.ts';
import { type RollbackOutcome, restoreServiceState } from './hop-steps.ts';
import { Journal, readJournal } from './journal.ts';
import { acquireLock, releaseLock } from './lock.ts';
import { hopMethod, restoreCompanionBackups } from './methods/index.ts';
import { hopPaths, type StatePaths, statePaths } from './paths.ts';
import { newRunId } from './preflight.ts';
import { type Services, servicesOfRecord } from './services.ts';
import {
  type ResumeAction,
  type RunView,
  refuseIfIncomplete,
  resumeActionOf,
  viewOf,
} from './status.ts';
import { exists } from './tree.ts';

export interface ResumeResult {
  install: string;
  action: ResumeAction;
  runId?: string;
  /** The version the installation is at afterwards. */
  version?: string;
  outcome?: HistoryEntry['outcome'];
  interruptedAt?: { hop: number; step: string; state: string };
  ignoredTail?: string;
  recoveredLock?: string;
  /** The version the interrupted run was going to (apply runs only). */
  runTo?: string;
  /** The run's hops that never committed: `uplift apply --to <runTo>` carries on from `version`. */
  notRun?: { hop: number; from: string; to: string }[];
  /** What the service is afterwards: running (and ready) as before the run, or stopped as before. */
  service?: RollbackOutcome['service'];
}

/**
 * Finishes or undoes a run a crash left (kill -9, power loss), following its journal and what
 * exists on disk. Before the stop: staging removed, nothing else had changed. Between stop and
 * commit: the hop is rolled back and the old version started (if it ran before). In the commit
 * (the smoke test had passed): the commit is finished. Resume is itself crash-safe: run it again.
 */
export async function resumeRun(
  install: string,
  onEvent?: (s: string) => void,
  profile?: Profile,
): Promise<ResumeResult> {
  const p = statePaths(install);
  const read = await readJournal(p);
  if (!read || read.records.length === 0) {
    if (read) await rm(p.journal, { force: true });
    return { install, action: 'none' };
  }
  const acquired = await acquireLock(p, 'resume', read.records[0]?.runId);
  try {
    const j = await Journal.reopen(p, read);
    const v = viewOf(read.records);
    const action = resumeActionOf(v);
    const svc = await servicesOfRecord(v.profile, install, profile, onEvent);
    let service: RollbackOutcome['service'] | undefined;
    await j.append(-1, 'resume', 'begin', {
      action,
      pid: process.pid,
      ...(read.ignoredTail ? { ignoredTail: read.ignoredTail } : {}),
      ...(acquired.recovered ? { recoveredLock: acquired.recovered.reason } : {}),
    });
    crashPoint('resume:begin');
    const hopInfo = v.hops.find((h) => h.hop === v.hop);
    let outcome: HistoryEntry['outcome'] = v.committedHops.length > 0 ? 'committed' : 'aborted';
    if (v.kind === 'rollback') {
      onEvent?.('finish the interrupted rollback');
      service = (await finishRollbackRun(p, j, v, svc)).service;
      outcome = 'rolled-back';
    } else if (action === 'roll-back') {
      onEvent?.(`roll back the hop to ${hopInfo?.to}`);
      service = (
        await hopMethod(v.method).rollback({
          p,
          j,
          hop: v.hop,
          wasRunning: v.wasRunning,
          version: hopInfo?.from ?? v.from,
          svc,
          onEvent,
        })
      ).service;
      outcome = 'rolled-back';
    } else if (action === 'finish-commit') {
      onEvent?.(`finish the commit of the hop to ${hopInfo?.to}`);
      await hopMethod(v.method).finishCommit(
        p,
        v.runId,
        v.hop,
        hopInfo?.from ?? v.from,
        hopInfo?.to ?? v.to,
      );
      await j.append(v.hop, 'commit', 'done', { resumed: true });
      v.committedHops.push(v.hop);
      outcome = 'committed';
    } else if (action === 'clean-up-staging') {
      onEvent?.('remove staging; the installation was not changed');
      if (v.hop >= 0) await rm(hopPaths(p, v.runId, v.hop).stage, { recursive: true, force: true });
      if (await exists(install))
        service = (
          await restoreServiceState({
            wasRunning: v.wasRunning,
            version: hopInfo?.from ?? v.from,
            svc,
            onEvent,
          })
        ).service;
    }
    if (action === 'finish-run') {
      const o = (v.ended?.data.outcome as HistoryEntry['outcome']) ?? outcome;
      outcome = o;
    } else await j.append(-1, 'run', 'done', { outcome, resumed: true });
    crashPoint('resume:done');
    const reached =
      v.committedHops.length > 0
        ? v.hops.find((h) => h.hop === Math.max(...v.committedHops))?.to
        : undefined;
    const hops: HistoryHop[] = v.hops
      .filter((h) => h.hop <= v.hop)
      .map((h) => ({
        hop: h.hop,
        from: h.from,
        to: h.to,
        outcome: v.committedHops.includes(h.hop)
          ? 'committed'
          : outcome === 'rolled-back'
            ? 'rolled-back'
            : 'aborted',
        ...(v.committedHops.includes(h.hop)
          ? { old: hopPaths(p, v.runId, h.hop).old, backup: hopPaths(p, v.runId, h.hop).backup }
          : {}),
      }));
    const entry: HistoryEntry = {
      runId: v.runId,
      kind: v.kind === 'rollback' ? 'rollback' : 'apply',
      install,
      from: v.from,
      to: v.kind === 'rollback' ? v.to : (reached ?? v.from),
      outcome,
      startedAt: v.startedAt,
      endedAt: new Date().toISOString(),
      hops,
      resumed: true,
      ...(v.profile ? { profile: v.profile } : {}),
      ...(service ? { service } : {}),
      ...(v.kind === 'rollback'
        ? { undid: read.records[0]?.data.undid as HistoryEntry['undid'] }
        : {}),
    };
    await finishRun(p, entry);
    return {
      install,
      action,
      runId: v.runId,
      version: entry.to,
      outcome,
      ...(v.last
        ? { interruptedAt: { hop: v.last.hop, step: v.last.step, state: v.last.state } }
        : {}),
      ...(read.ignoredTail ? { ignoredTail: read.ignoredTail } : {}),
      ...(acquired.recovered ? { recoveredLock: acquired.recovered.reason } : {}),
      ...(service ? { service } : {}),
      ...(v.kind === 'rollback'
        ? {}
        : { runTo: v.to, notRun: v.hops.filter((h) => !v.committedHops.includes(h.hop)) }),
    };
  } finally {
    await releaseLock(p);
  }
}

export interface RollbackResult {
  install: string;
  runId: string;
  undid: { runId: string; hop: number; from: string; to: string };
  method: 'old-generation' | 'backup';
  /** The generation that was rolled back, kept beside the installation (files uploaded since the upgrade are in it). */
  keptAs?: string;
  version: string;
  /** Running (and ready again) when it ran before the rollback; stopped otherwise. */
  service: RollbackOutcome['service'];
  /** Seconds from the stop until the old version passed its readiness probes. */
  downtimeSeconds?: number;
}

/**
 * `uplift rollback`: undoes the last committed hop that has not been undone. Swaps back the old
 * generation kept at its commit (exactly the state before that upgrade), or, when that is gone,
 * restores the hop's backup. The previous version runs again if the installation was running.
 */
export async function rollbackLast(
  install: string,
  onEvent?: (s: string) => void,
  profile?: Profile,
): Promise<RollbackResult> {
  const p = statePaths(install);
  await refuseIfIncomplete(install);
  const history = await readHistory(p);
  const recorded = [...history].reverse().find((h) => h.profile)?.profile;
  const svc = await servicesOfRecord(recorded, install, profile, onEvent);
  const undone = new Set(
    history
      .filter((h) => h.kind === 'rollback' && h.undid)
      .map((h) => `${h.undid?.runId}#${h.undid?.hop}`),
  );
  let target:
    | { runId: string; hop: number; from: string; to: string; old?: string; backup?: string }
    | undefined;
  for (const h of [...history].reverse()) {
    if (h.kind !== 'apply') continue;
    const committed = h.hops.filter(
      (x) => x.outcome === 'committed' && !undone.has(`${h.runId}#${x.hop}`),
    );
    const last = committed.at(-1);
    if (last) {
      target = { runId: h.runId, ...last };
      break;
    }
  }
  if (!target)
    throw new UpliftError(
      'UPLIFT_APPLY_NOTHING_TO_ROLL_BACK',
      `no committed upgrade of ${install} is left to roll back`,
      {
        hint: 'uplift history --install DIR lists what has run.',
        unchanged: true,
      },
    );
  const oldGen = target.old ?? hopPaths(p, target.runId, target.hop).old;
  const backup = target.backup ?? hopPaths(p, target.runId, target.hop).backup;
  const haveOld = await exists(oldGen);
  if (!haveOld && !(await exists(backup)))
    throw new UpliftError(
      'UPLIFT_APPLY_NOTHING_TO_ROLL_BACK',
      `the upgrade ${target.from} → ${target.to} can no longer be rolled back: neither ${oldGen} nor ${backup} is kept`,
      {
        hint: 'Restore an older backup with uplift restore.',
        unchanged: true,
      },
    );
  const runId = newRunId();
  await acquireLock(p, 'rollback', runId);
  try {
    const j = await Journal.create(p, runId);
    const wasRunning = await svc.isRunning();
    const startedAt = new Date().toISOString();
    const keptAs = join(p.dir, `gen-${runId}-rolled-back`);
    await j.append(-1, 'run', 'begin', {
      kind: 'rollback',
      install,
      from: target.to,
      to: target.from,
      wasRunning,
      undid: { runId: target.runId, hop: target.hop },
      old: haveOld ? oldGen : null,
      backup,
      keptAs,
      profile: { name: svc.profile.manifest.name, dir: svc.profile.dir },
      hops: [],
    });
    const v = viewOf(j.records);
    onEvent?.(
      `roll back ${target.to} → ${target.from} (${haveOld ? 'the kept old generation' : 'the backup'})`,
    );
    const stopAt = performance.now();
    const outcome = await finishRollbackRun(p, j, v, svc);
    const downtimeSeconds =
      outcome.readyAt !== undefined ? Math.round(outcome.readyAt - stopAt) / 1000 : undefined;
    await j.append(-1, 'run', 'done', {
      outcome: 'rolled-back',
      service: outcome.service,
      ...(downtimeSeconds !== undefined ? { downtimeSeconds } : {}),
    });
    await finishRun(p, {
      runId,
      kind: 'rollback',
      install,
      from: target.to,
      to: target.from,
      outcome: 'rolled-back',
      startedAt,
      endedAt: new Date().toISOString(),
      hops: [],
      undid: { runId: target.runId, hop: target.hop },
      profile: { name: svc.profile.manifest.name, dir: svc.profile.dir },
      service: outcome.service,
      ...(downtimeSeconds !== undefined ? { downtimeSeconds } : {}),
    });
    return {
      install,
      runId,
      undid: { runId: target.runId, hop: target.hop, from: target.from, to: target.to },
      method: haveOld ? 'old-generation' : 'backup',
      ...(haveOld ? { keptAs } : {}),
      version: target.from,
      service: outcome.service,
      ...(downtimeSeconds !== undefined ? { downtimeSeconds } : {}),
    };
  } finally {
    await releaseLock(p);
  }
}

/**
 * The body of `uplift rollback`, idempotent so resume can finish it. The service is left as the
 * rollback found it: running and ready again when it ran (UPLIFT_APPLY_SERVICE_DOWN otherwise).
 */
async function finishRollbackRun(
  p: StatePaths,
  j: Journal,
  v: RunView,
  svc: Services,
): Promise<RollbackOutcome> {
  const d = (j.records.find((r) => r.step === 'run' && r.state === 'begin')?.data ?? {}) as {
    old: string | null;
    backup: string;
    keptAs: string;
  };
  const install = p.install;
  await j.append(-1, 'rollback', 'begin', {});
  crashPoint('rollback:begin');
  if (d.old) {
    if (await exists(d.old)) {
      if (await exists(install)) {
        if (await svc.isRunning()) await svc.stop({ code: 'UPLIFT_APPLY_STOP_FAILED' });
        await rename(install, d.keptAs);
        crashPoint('rollback:between');
      }
      await rename(d.old, install);
      fsyncDir(dirname(install));
      fsyncDir(p.dir);
    }
  } else {
    await restoreBackup({
      backup: d.backup,
      install,
      service: svc.control(v.to),
      stop: true,
      start: false,
    });
    await restoreCompanionBackups(d.backup);
  }
  await j.append(-1, 'rollback', 'done', {});
  return restoreServiceState({ wasRunning: v.wasRunning, version: v.to, svc });
}
