import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { shellWord, UpliftError } from '../errors/index.ts';
import type { Plan } from '../plan/index.ts';
import type { Profile } from '../profile/index.ts';
import { type PublicKey, publicKeyFromBase64, trustOf } from '../signing/index.ts';
import { crashPoint } from '../util/index.ts';
import { type RunState, runHops } from './engine.ts';
import { finishRun, type HistoryEntry, type HistoryHop, readHistory } from './history.ts';
import { type RollbackOutcome, restoreServiceState } from './hop-steps.ts';
import { Journal, readJournal } from './journal.ts';
import { settleLeftovers } from './leftovers.ts';
import { type Acquired, acquireLock, releaseLock } from './lock.ts';
import { hopMethod } from './methods/index.ts';
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
import { exists, hashFile } from './tree.ts';
import type { ApplyOptions, HopReport } from './types.ts';
import { type RunToUndo, swapBack, undoRun } from './undo-run.ts';

export interface ResumeResult {
  install: string;
  /** How the hop the run was in was settled (docs/apply.md, "Resume"). */
  action: ResumeAction;
  /**
   * What resume did with the run after that: `finish` carried it on to its target, `abort` took it
   * back to the version it started from; `stop` (a run whose journal recorded no plan, from before
   * uplift recorded one) left it where the settled hop ended.
   */
  mode?: ResumeMode;
  runId?: string;
  /** The version the installation is at afterwards. */
  version?: string;
  outcome?: HistoryEntry['outcome'];
  interruptedAt?: { hop: number; step: string; state: string };
  ignoredTail?: string;
  recoveredLock?: string;
  /** Temporary files of killed commands removed when resume took the lock. */
  swept?: string[];
  /** Processes the interrupted run had left running that resume waited for (and killed, if they outlived their timeout). */
  leftovers?: { waited: number[]; killed: number[] };
  /** The version the interrupted run was going to (apply runs only). */
  runTo?: string;
  /** The version the interrupted run started from (apply runs only): where `--abort` takes it. */
  runFrom?: string;
  /** The hops the run was to make that are not in now. */
  notRun?: { hop: number; from: string; to: string }[];
  /** What the service is afterwards: running (and ready) as before the run, or stopped as before. */
  service?: RollbackOutcome['service'];
}

export type ResumeMode = 'finish' | 'abort' | 'stop';

export interface ResumeOptions {
  onEvent?: (s: string) => void;
  profile?: Profile;
  /** Take the run back to the version it started from instead of finishing it. */
  abort?: boolean;
}

/**
 * Ends a run a crash left (kill -9, power loss), following its journal and what exists on disk:
 * by default it finishes the whole run to its target, with the plan, packs (their hashes checked
 * again) and trust the run recorded when it began; with `abort` it takes the installation back to
 * the version the run started from, committed hops of the run included. First the hop the run was
 * in is settled (staging removed; rolled back after its stop; its commit finished), after waiting
 * for what the killed run left running (src/apply/leftovers.ts). Afterwards the service is as it
 * was before the run (running and ready, or stopped), or the error says it is not. Resume is
 * itself crash-safe: run it again.
 */
export async function resumeRun(install: string, ro: ResumeOptions = {}): Promise<ResumeResult> {
  const { onEvent, profile } = ro;
  const p = statePaths(install);
  const read = await readJournal(p);
  if (!read || read.records.length === 0) {
    if (read) await rm(p.journal, { force: true });
    // No run to end, but what a killed command left in the state folder still goes.
    if (await exists(p.dir)) {
      const acquired = await acquireLock(p, 'resume');
      await releaseLock(p);
      if (acquired.swept.length > 0) return { install, action: 'none', swept: acquired.swept };
    }
    return { install, action: 'none' };
  }
  const v = viewOf(read.records);
  const action = resumeActionOf(v);
  const mode: ResumeMode =
    v.kind === 'rollback' || action === 'finish-run'
      ? 'stop'
      : ro.abort || v.abortBegun
        ? 'abort'
        : v.recorded
          ? 'finish'
          : 'stop';
  // The hop to carry on with: the one after a finished commit, else the one the run was in.
  const next = action === 'finish-commit' ? v.hop + 1 : Math.max(v.hop, 0);
  // Before anything changes: the packs must be the ones the run began with.
  if (mode === 'finish') await checkRecordedPacks(v, next, install);
  const acquired = await acquireLock(p, 'resume', v.runId);
  try {
    const j = await Journal.reopen(p, read);
    const svc = await servicesOfRecord(v.profile, install, profile, onEvent, v.runId);
    let service: RollbackOutcome['service'] | undefined;
    await j.append(-1, 'resume', 'begin', {
      action,
      mode,
      pid: process.pid,
      ...(read.ignoredTail ? { ignoredTail: read.ignoredTail } : {}),
      ...(acquired.recovered
        ? { recoveredLock: acquired.recovered.reason, staleLock: acquired.recovered.lock ?? null }
        : {}),
      ...(acquired.swept.length > 0 ? { swept: acquired.swept } : {}),
    });
    const leftovers = await settleLeftovers(v.runId, svc, leftoverTimeoutMs(svc), onEvent);
    crashPoint('resume:begin');
    const hopInfo = v.hops.find((h) => h.hop === v.hop);
    const base = {
      install,
      action,
      mode,
      runId: v.runId,
      ...(v.last
        ? { interruptedAt: { hop: v.last.hop, step: v.last.step, state: v.last.state } }
        : {}),
      ...(read.ignoredTail ? { ignoredTail: read.ignoredTail } : {}),
      ...(acquired.recovered ? { recoveredLock: acquired.recovered.reason } : {}),
      ...(acquired.swept.length > 0 ? { swept: acquired.swept } : {}),
      ...(leftovers.waited.length > 0 ? { leftovers } : {}),
      ...(v.kind === 'rollback' ? {} : { runTo: v.to, runFrom: v.from }),
    };
    let outcome: HistoryEntry['outcome'] = v.committedHops.length > 0 ? 'committed' : 'aborted';
    if (v.kind === 'rollback') {
      onEvent?.('finish the interrupted rollback');
      service = (await finishRollbackRun(p, j, v, svc)).service;
      outcome = 'rolled-back';
    } else if (v.abortBegun) {
      // An abort was under way: its decision is in the journal; the hop was settled before it.
    } else if (action === 'roll-back') {
      onEvent?.(`roll back the hop to ${hopInfo?.to}`);
      service = (
        await hopMethod(v.method).rollback({
          p,
          j,
          hop: v.hop,
          // With the whole run to take back next, the hop's `from` is not started in between.
          wasRunning: v.wasRunning && !(mode === 'abort' && v.committedHops.length > 0),
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
      onEvent?.('remove staging; the installation was not changed by this hop');
      if (v.hop >= 0) await removeHopDebris(p, v);
    }

    if (mode === 'finish') {
      // apply --leave-stopped: the finished run leaves the services stopped too.
      const leaveStopped = v.recorded?.options.leaveStopped === true;
      const rs = await recordedRunState(p, j, v, svc, acquired, onEvent);
      if (next < v.hops.length && next === v.hop && action !== 'finish-commit') {
        // The hop runs again from its first step: its earlier records no longer count, and its
        // staging and backup are made again.
        await j.append(next, 'resume', 'begin', { retry: true });
        const hp = hopPaths(p, v.runId, next);
        await rm(hp.stage, { recursive: true, force: true });
        for (const f of await readdir(p.backups).catch(() => [] as string[]))
          if (f.startsWith(`${v.runId}-${next}.`) || f.startsWith(`${v.runId}-${next}-`))
            await rm(join(p.backups, f), { force: true });
      } else if (next >= v.hops.length)
        service = (
          await restoreServiceState({
            wasRunning: v.wasRunning && !leaveStopped,
            version: v.to,
            svc,
            onEvent,
          })
        ).service;
      if (next < v.hops.length) onEvent?.(`carry the run on to ${v.to}`);
      await runHops(rs, next);
      return {
        ...base,
        version: v.to,
        outcome: 'committed',
        service: v.wasRunning && !leaveStopped ? 'running' : 'stopped',
        notRun: [],
      };
    }
    if (mode === 'abort') {
      if (v.committedHops.length > 0 || v.abortBegun) {
        service = (await undoRun(p, j, runToUndo(v), svc, onEvent)).service;
        outcome = 'rolled-back';
      } else if (service === undefined && (await exists(install)))
        service = (
          await restoreServiceState({
            wasRunning: v.wasRunning,
            version: v.from,
            svc,
            onEvent,
          })
        ).service;
    } else if (action === 'clean-up-staging' || (action === 'finish-commit' && !v.wasRunning)) {
      if (await exists(install))
        service = (
          await restoreServiceState({
            wasRunning: v.wasRunning,
            version: v.committedHops.length > 0 ? (hopInfo?.to ?? v.to) : (hopInfo?.from ?? v.from),
            svc,
            onEvent,
          })
        ).service;
    }
    const aborted = mode === 'abort';
    if (action === 'finish-run') {
      const o = (v.ended?.data.outcome as HistoryEntry['outcome']) ?? outcome;
      outcome = o;
    } else
      await j.append(-1, 'run', 'done', {
        outcome,
        resumed: true,
        ...(aborted && v.committedHops.length > 0 ? { undid: 'run' } : {}),
      });
    crashPoint('resume:done');
    const reached = aborted
      ? v.from
      : v.committedHops.length > 0
        ? v.hops.find((h) => h.hop === Math.max(...v.committedHops))?.to
        : undefined;
    const hops: HistoryHop[] = v.hops
      .filter((h) => h.hop <= v.hop)
      .map((h) => {
        const committed = v.committedHops.includes(h.hop) && !aborted;
        return {
          hop: h.hop,
          from: h.from,
          to: h.to,
          outcome: committed
            ? 'committed'
            : outcome === 'rolled-back' || aborted
              ? 'rolled-back'
              : 'aborted',
          ...(committed
            ? { old: hopPaths(p, v.runId, h.hop).old, backup: hopPaths(p, v.runId, h.hop).backup }
            : {}),
        };
      });
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
      ...(aborted && (v.committedHops.length > 0 || v.abortBegun)
        ? { undidRun: { to: v.from, hops: hops.map(({ hop, from, to }) => ({ hop, from, to })) } }
        : {}),
    };
    await finishRun(p, entry);
    return {
      ...base,
      version: entry.to,
      outcome,
      ...(service ? { service } : {}),
      ...(v.kind === 'rollback'
        ? {}
        : {
            notRun: aborted ? v.hops : v.hops.filter((h) => !v.committedHops.includes(h.hop)),
          }),
    };
  } finally {
    await releaseLock(p);
  }
}

/** The interrupted run as {@link undoRun} takes it back (the service control as the run's target's, as before). */
function runToUndo(v: RunView): RunToUndo {
  return { runId: v.runId, from: v.from, wasRunning: v.wasRunning, current: v.to };
}

/** The longest a lifecycle command of the profile may run: how long resume waits for a killed run's. */
function leftoverTimeoutMs(svc: Services): number {
  const l = svc.profile.manifest.lifecycle;
  const seconds = [
    60,
    ...(l?.services ?? []).flatMap((s) => [
      s.stop?.timeoutSeconds ?? 0,
      s.start?.timeoutSeconds ?? 0,
    ]),
  ];
  return Math.max(...seconds) * 1000 + 5000;
}

/**
 * What the killed attempt at the hop left: its staging, and a backup it had begun but not
 * finished (the temp files of one are the lock's to sweep; the archive under its name, when the
 * kill came before its checksum, is here).
 */
async function removeHopDebris(p: StatePaths, v: RunView): Promise<void> {
  const hp = hopPaths(p, v.runId, v.hop);
  await rm(hp.stage, { recursive: true, force: true });
  if (v.begun.has('backup') && !v.done.has('backup'))
    for (const f of [hp.backup, `${hp.backup}.sha256`]) await rm(f, { force: true });
  if (!v.done.has('backup'))
    for (const f of await readdir(p.backups).catch(() => [] as string[]))
      if (f.startsWith(`${v.runId}-${v.hop}-`)) await rm(join(p.backups, f), { force: true });
}

/** Refuses, before anything changes, to carry a run on with packs other than those it began with. */
async function checkRecordedPacks(v: RunView, next: number, install: string): Promise<void> {
  for (const h of v.hops.slice(next)) {
    if (!h.pack || !h.sha256) continue;
    const now = await hashFile(h.pack).catch(() => undefined);
    if (now === h.sha256) continue;
    throw new UpliftError(
      now === undefined ? 'UPLIFT_APPLY_PACK_NOT_FOUND' : 'UPLIFT_APPLY_PLAN_MISMATCH',
      now === undefined
        ? `the pack ${h.pack} of the interrupted run's hop ${h.from} → ${h.to} is gone`
        : `the pack ${h.pack} of the interrupted run's hop ${h.from} → ${h.to} changed since the run began (SHA-256 ${now}, the run began with ${h.sha256})`,
      {
        hint: `Put the pack the run began with back in place and resume again, or take the run back to ${v.from}:\nuplift resume --install ${shellWord(install)} --abort`,
        location: { file: h.pack },
        unchanged: true,
      },
    );
  }
}

/** The run as apply began it, from what its `run:begin` record holds: for {@link runHops}. */
async function recordedRunState(
  p: StatePaths,
  j: Journal,
  v: RunView,
  svc: Services,
  acquired: Acquired,
  onEvent?: (s: string) => void,
): Promise<RunState> {
  const r = v.recorded as NonNullable<RunView['recorded']>;
  const keys: PublicKey[] = [];
  for (const k of r.trust.keys) {
    const key = publicKeyFromBase64(k);
    if (key) keys.push(key);
  }
  const o = {
    ...(r.options as Omit<ApplyOptions, 'plan' | 'profile' | 'trust' | 'onEvent'>),
    install: p.install,
    // The part of the plan a run reads after its start: its identity and its steps.
    plan: { from: v.from, to: v.to, hash: r.planHash, verdict: r.verdict, steps: r.steps } as Plan,
    profile: svc.profile,
    trust: trustOf(keys, r.trust.revoked),
    ...(onEvent ? { onEvent } : {}),
  } as ApplyOptions;
  const reports: HopReport[] = v.committedHops
    .sort((a, b) => a - b)
    .map((hop) => {
      const h = v.hops.find((x) => x.hop === hop) as RunView['hops'][number];
      const hp = hopPaths(p, v.runId, hop);
      return {
        hop,
        from: h.from,
        to: h.to,
        pack: h.pack ?? '',
        kind: 'full',
        outcome: 'committed',
        counts: { added: 0, replaced: 0, deleted: 0, kept: 0, merged: 0 },
        merges: [],
        migrations: { database: [], config: [], hooks: [] },
        stepSeconds: {},
        backup: hp.backup,
        old: hp.old,
      };
    });
  return {
    o,
    p,
    j,
    runId: v.runId,
    wasRunning: v.wasRunning,
    svc,
    hops: r.steps,
    packFiles: v.hops.map((h) => h.pack ?? ''),
    ...(r.stopStep ? { stop: r.stopStep } : {}),
    startedAt: v.startedAt,
    reports,
    started: performance.now(),
    ...(acquired.recovered ? { recovered: acquired.recovered } : {}),
    resumed: true,
  };
}

export interface RollbackResult {
  install: string;
  runId: string;
  undid: { runId: string; hop: number; hops?: number[]; from: string; to: string };
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
 * restores the hop's backup. With `wholeRun` (`--run`), every hop of the newest run still in is
 * undone at once, back to the version the run started from, from its first hop's backup. The
 * previous version runs again if the installation was running.
 */
export async function rollbackLast(
  install: string,
  onEvent?: (s: string) => void,
  profile?: Profile,
  o: { wholeRun?: boolean } = {},
): Promise<RollbackResult> {
  const p = statePaths(install);
  await refuseIfIncomplete(install);
  const history = await readHistory(p);
  const recorded = [...history].reverse().find((h) => h.profile)?.profile;
  const svc = await servicesOfRecord(recorded, install, profile, onEvent);
  const undone = new Set(
    history.flatMap((h) =>
      h.kind === 'rollback' && h.undid
        ? (h.undid.hops ?? [h.undid.hop]).map((hop) => `${h.undid?.runId}#${hop}`)
        : [],
    ),
  );
  let target:
    | {
        runId: string;
        hop: number;
        from: string;
        to: string;
        old?: string;
        backup?: string;
        hops?: number[];
      }
    | undefined;
  for (const h of [...history].reverse()) {
    if (h.kind !== 'apply') continue;
    const committed = h.hops.filter(
      (x) => x.outcome === 'committed' && !undone.has(`${h.runId}#${x.hop}`),
    );
    const first = committed[0];
    const last = committed.at(-1);
    if (first && last) {
      // --run: every hop of the run still in, back to where it began (its first hop's kept
      // generation when that hop is the only one, else the backup taken before it).
      target =
        o.wholeRun && committed.length > 1
          ? {
              runId: h.runId,
              hop: first.hop,
              from: first.from,
              to: last.to,
              old: hopPaths(p, h.runId, first.hop).old,
              backup: first.backup,
              hops: committed.map((x) => x.hop),
            }
          : { runId: h.runId, ...last };
      break;
    }
  }
  if (!target) {
    // Every upgrade is rolled back already; a backup taken before one may still be kept.
    let kept: { file: string; from: string; to: string } | undefined;
    for (const h of [...history].reverse())
      for (const x of [...h.hops].reverse())
        if (!kept && x.backup && (await exists(x.backup)))
          kept = { file: x.backup, from: x.from, to: x.to };
    throw new UpliftError(
      'UPLIFT_APPLY_NOTHING_TO_ROLL_BACK',
      `no committed upgrade of ${install} is left to roll back${kept ? `; the backup taken before ${kept.from} → ${kept.to} is kept: ${kept.file}` : ''}`,
      {
        hint: kept
          ? `To go back to the installation as that backup holds it: uplift restore ${kept.file} --install ${install} --stop --start`
          : `uplift history --install ${install} lists what has run.`,
        unchanged: true,
      },
    );
  }
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
      undid: undidOf(target),
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
      undid: undidOf(target),
      profile: { name: svc.profile.manifest.name, dir: svc.profile.dir },
      service: outcome.service,
      ...(downtimeSeconds !== undefined ? { downtimeSeconds } : {}),
    });
    return {
      install,
      runId,
      undid: { ...undidOf(target), from: target.from, to: target.to },
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

/** What a rollback undid: one hop, or (`--run`) several hops of one run. */
function undidOf(t: { runId: string; hop: number; hops?: number[] }): {
  runId: string;
  hop: number;
  hops?: number[];
} {
  return { runId: t.runId, hop: t.hop, ...(t.hops ? { hops: t.hops } : {}) };
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
  await j.append(-1, 'rollback', 'begin', {});
  crashPoint('rollback:begin');
  await swapBack(p, svc, d, v.to);
  await j.append(-1, 'rollback', 'done', {});
  return restoreServiceState({ wasRunning: v.wasRunning, version: v.to, svc });
}
