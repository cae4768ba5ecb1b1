import { readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findRunningProcesses, restoreBackup, startService, stopService } from '../backup/index.ts';
import { UpliftError } from '../errors/index.ts';
import { crashPoint, fsyncDir } from '../util/index.ts';
import { newRunId } from './engine.ts';
import { finishRun, type HistoryEntry, type HistoryHop, readHistory } from './history.ts';
import { Journal, type JournalRecord, readJournal } from './journal.ts';
import { acquireLock, readLock, releaseLock, staleReason, type UpgradeLock } from './lock.ts';
import { hopMethod, restoreCompanionBackups } from './methods/index.ts';
import { hopPaths, type StatePaths, statePaths } from './paths.ts';
import { exists } from './tree.ts';

interface RunView {
  runId: string;
  kind: string;
  /** The hop method the run used (`uplift-pack` for journals written before methods existed). */
  method: string;
  from: string;
  to: string;
  wasRunning: boolean;
  startedAt: string;
  hops: { hop: number; from: string; to: string }[];
  /** The hop the run was in, and the steps it had begun and finished. */
  hop: number;
  begun: Set<string>;
  done: Set<string>;
  last: JournalRecord | undefined;
  ended: JournalRecord | undefined;
  committedHops: number[];
}

function viewOf(records: JournalRecord[]): RunView {
  const begin = records.find((r) => r.step === 'run' && r.state === 'begin');
  const d = (begin?.data ?? {}) as Record<string, unknown>;
  const hop = Math.max(-1, ...records.map((r) => r.hop));
  const mine = records.filter((r) => r.hop === hop);
  return {
    runId: begin?.runId ?? records[0]?.runId ?? '',
    kind: String(d.kind ?? 'apply'),
    method: String(d.method ?? 'uplift-pack'),
    from: String(d.from ?? ''),
    to: String(d.to ?? ''),
    wasRunning: d.wasRunning === true,
    startedAt: begin?.at ?? '',
    hops: (d.hops as RunView['hops']) ?? [],
    hop,
    begun: new Set(mine.filter((r) => r.state === 'begin').map((r) => r.step)),
    done: new Set(mine.filter((r) => r.state === 'done').map((r) => r.step)),
    last: records.at(-1),
    ended: records.find((r) => r.step === 'run' && r.state === 'done'),
    committedHops: records
      .filter((r) => r.step === 'commit' && r.state === 'done')
      .map((r) => r.hop),
  };
}

export type ResumeAction =
  | 'none'
  | 'finish-run'
  | 'clean-up-staging'
  | 'roll-back'
  | 'finish-commit'
  | 'finish-rollback';

/** What `uplift resume` would do with this journal. */
export function resumeActionOf(v: RunView): ResumeAction {
  if (v.ended) return 'finish-run';
  if (v.kind === 'rollback') return 'finish-rollback';
  if (v.hop < 0) return 'clean-up-staging';
  if (v.done.has('commit') || v.begun.has('commit'))
    return v.done.has('commit') ? 'finish-run' : 'finish-commit';
  if (v.begun.has('stop')) return 'roll-back';
  return 'clean-up-staging';
}

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
      await finishRollbackRun(p, j, v);
      outcome = 'rolled-back';
    } else if (action === 'roll-back') {
      onEvent?.(`roll back the hop to ${hopInfo?.to}`);
      await hopMethod(v.method).rollback(p, j, v.hop, v.wasRunning, onEvent);
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
      if (
        v.wasRunning &&
        (await exists(install)) &&
        (await findRunningProcesses(install)).length === 0
      )
        await startService(install, { code: 'UPLIFT_APPLY_START_FAILED' });
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
    };
  } finally {
    await releaseLock(p);
  }
}

/** Refuses to start anything while a crashed run waits for `uplift resume`. */
export async function refuseIfIncomplete(install: string): Promise<void> {
  const p = statePaths(install);
  if (await exists(p.journal)) {
    const lock = await readLock(p).catch(() => undefined);
    if (lock && staleReason(lock) === undefined && lock.pid !== process.pid)
      throw new UpliftError(
        'UPLIFT_APPLY_LOCKED',
        `uplift ${lock.command ?? 'apply'} (pid ${lock.pid}) is running on ${install}`,
        {
          hint: 'Wait for it to finish.',
          unchanged: true,
        },
      );
    throw new UpliftError(
      'UPLIFT_APPLY_INCOMPLETE',
      `a run on ${install} did not finish (${p.journal})`,
      {
        hint: `Run \`uplift resume --install ${install}\` first.`,
        unchanged: true,
      },
    );
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
}

/**
 * `uplift rollback`: undoes the last committed hop that has not been undone. Swaps back the old
 * generation kept at its commit (exactly the state before that upgrade), or, when that is gone,
 * restores the hop's backup. The previous version runs again if the installation was running.
 */
export async function rollbackLast(
  install: string,
  onEvent?: (s: string) => void,
): Promise<RollbackResult> {
  const p = statePaths(install);
  await refuseIfIncomplete(install);
  const history = await readHistory(p);
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
    const wasRunning = (await findRunningProcesses(install)).length > 0;
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
      hops: [],
    });
    const v = viewOf(j.records);
    onEvent?.(
      `roll back ${target.to} → ${target.from} (${haveOld ? 'the kept old generation' : 'the backup'})`,
    );
    await finishRollbackRun(p, j, v);
    await j.append(-1, 'run', 'done', { outcome: 'rolled-back' });
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
    });
    return {
      install,
      runId,
      undid: { runId: target.runId, hop: target.hop, from: target.from, to: target.to },
      method: haveOld ? 'old-generation' : 'backup',
      ...(haveOld ? { keptAs } : {}),
      version: target.from,
    };
  } finally {
    await releaseLock(p);
  }
}

/** The body of `uplift rollback`, idempotent so resume can finish it. */
async function finishRollbackRun(p: StatePaths, j: Journal, v: RunView): Promise<void> {
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
        if ((await findRunningProcesses(install)).length > 0)
          await stopService(install, { code: 'UPLIFT_APPLY_STOP_FAILED' });
        await rename(install, d.keptAs);
        crashPoint('rollback:between');
      }
      await rename(d.old, install);
      fsyncDir(dirname(install));
      fsyncDir(p.dir);
    }
  } else {
    await restoreBackup({ backup: d.backup, install, stop: true, start: false });
    await restoreCompanionBackups(d.backup);
  }
  if (v.wasRunning && (await findRunningProcesses(install)).length === 0)
    await startService(install, { code: 'UPLIFT_APPLY_START_FAILED', changed: true });
  await j.append(-1, 'rollback', 'done', {});
}

export interface StatusResult {
  install: string;
  state: 'idle' | 'running' | 'interrupted';
  lock?: UpgradeLock & { stale?: string };
  run?: {
    runId: string;
    kind: string;
    from: string;
    to: string;
    hop: number;
    hopTo?: string;
    step?: string;
    stepState?: string;
    at?: string;
    resumeWould: ResumeAction;
  };
  ignoredTail?: string;
  last?: HistoryEntry;
  /** Kept generations and backups beside the installation. */
  kept: string[];
}

export async function readStatus(install: string): Promise<StatusResult> {
  const p = statePaths(install);
  const lock = await readLock(p).catch(() => undefined);
  const stale = lock ? staleReason(lock) : undefined;
  const read = await readJournal(p);
  const history = await readHistory(p);
  const kept = (await readdir(p.dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith('gen-'))
    .map((n) => join(p.dir, n));
  const r: StatusResult = {
    install,
    state: 'idle',
    ...(lock ? { lock: { ...lock, ...(stale ? { stale } : {}) } } : {}),
    ...(history.length ? { last: history.at(-1) } : {}),
    kept,
  };
  if (read && read.records.length > 0) {
    const v = viewOf(read.records);
    r.state = lock && !stale ? 'running' : 'interrupted';
    const last = v.last;
    r.run = {
      runId: v.runId,
      kind: v.kind,
      from: v.from,
      to: v.to,
      hop: v.hop,
      ...(v.hops.find((h) => h.hop === v.hop)?.to
        ? { hopTo: v.hops.find((h) => h.hop === v.hop)?.to }
        : {}),
      ...(last ? { step: last.step, stepState: last.state, at: last.at } : {}),
      resumeWould: resumeActionOf(v),
    };
    if (read.ignoredTail) r.ignoredTail = read.ignoredTail;
  }
  return r;
}
